package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"

	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newImportCmd, newExportCmd) }

func newImportCmd(m *Main) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE...",
		Short: "Import a world document (JSON) into the data directory's state",
		Long: `Import a world document (SPEC §8.1): it replaces the directory, partner registry, role
model, links and Power Platform state, in one transaction (all or nothing; importing the same file
twice gives the same state). Secrets in the document are stored hashed; secrets already stored for
principals that remain are kept.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := server.OpenStore(cmd.Context(), m.DataDir, m.DSN)
			if err != nil {
				return err
			}
			defer db.Close()
			for _, path := range args {
				kind, err := sniff(path)
				if err != nil {
					return err
				}
				switch kind {
				case "world":
					f, err := os.Open(path)
					if err != nil {
						return err
					}
					doc, err := world.Read(f, path)
					f.Close()
					if err != nil {
						return err
					}
					if err := world.Validate(doc); err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					if err := db.ImportWorld(cmd.Context(), doc, identity.HashSecret); err != nil {
						return fmt.Errorf("%s: %w", path, err)
					}
					fmt.Fprintf(m.Stdout, "%s: imported %d tenants, %d principals, %d partner IDs, %d links, %d role assignments\n",
						path, len(doc.Tenants), len(doc.Principals), len(doc.Partners), len(doc.Links), len(doc.RoleAssignments))
				default:
					return fmt.Errorf("%s: not a world document (a JSON object with \"version\": 1); usage and activity files are imported by later versions", path)
				}
			}
			return nil
		},
	}
}

// sniff tells a world document (JSON) from other inputs by its first byte.
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	head, _ := bufio.NewReader(f).Peek(64)
	if bytes.HasPrefix(bytes.TrimLeft(head, " \t\r\n\ufeff"), []byte("{")) {
		return "world", nil
	}
	return "other", nil
}

func newExportCmd(m *Main) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Export the data directory's state as a world document (JSON, no secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			db, err := server.OpenStore(cmd.Context(), m.DataDir, m.DSN)
			if err != nil {
				return err
			}
			defer db.Close()
			doc, err := db.ExportWorld(cmd.Context())
			if err != nil {
				return err
			}
			w := m.Stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			return world.Write(w, doc)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "-", "write to this file instead of standard output")
	return cmd
}
