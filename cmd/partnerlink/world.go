package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newImportCmd, newExportCmd) }

func newImportCmd(m *Main) *cobra.Command {
	return &cobra.Command{
		Use:   "import FILE...",
		Short: "Import a world document (JSON) or FOCUS usage files (CSV, gzip, Parquet) into the data directory",
		Long: `Import a world document (SPEC §8.1): it replaces the directory, partner registry, role
model, links and Power Platform state, in one transaction (all or nothing; importing the same file
twice gives the same state). Secrets in the document are stored hashed; secrets already stored for
principals that remain are kept.

FOCUS usage files (SPEC §8.2) are validated whole (a bad row is named by file and line and nothing
is imported) and kept in DATA_DIR/usage/ by content hash: importing the same file twice counts it
once.`,
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
				case "usage":
					if err := importUsage(cmd, m, db, path); err != nil {
						return err
					}
				default:
					return partnerlink.Errorf(partnerlink.EINVALID,
						"%s: not a world document (JSON) nor FOCUS usage (CSV with a ChargePeriodStart column, gzip or Parquet)", path)
				}
			}
			return nil
		},
	}
}

// sniff tells what a file holds: a world document (JSON), FOCUS usage
// (Parquet, or CSV — possibly gzip — whose header names ChargePeriodStart).
func sniff(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	br := bufio.NewReader(f)
	head, _ := br.Peek(4)
	var r io.Reader = br
	switch {
	case bytes.Equal(head, []byte("PAR1")):
		return "usage", nil
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err != nil {
			return "", partnerlink.Errorf(partnerlink.EINVALID, "%s: not a readable gzip file: %v", path, err)
		}
		r = gz
	}
	first, _ := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	trimmed := strings.TrimLeft(first, " \t\r\n\ufeff")
	switch {
	case strings.HasPrefix(trimmed, "{"):
		return "world", nil
	case strings.Contains(strings.ToLower(first), "chargeperiodstart"):
		return "usage", nil
	}
	return "other", nil
}

// importUsage stores one FOCUS file in the data directory (SPEC §8.2), with
// a progress bar when standard error is a terminal.
func importUsage(cmd *cobra.Command, m *Main, db *sqlstore.DB, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var progress func(io.Reader) io.Reader
	if st, err := f.Stat(); err == nil && isTerminal(m.Stderr) {
		progress = func(r io.Reader) io.Reader {
			bar := progressbar.DefaultBytes(st.Size(), "reading "+filepath.Base(path))
			pr := progressbar.NewReader(r, bar)
			return &pr
		}
	}
	res, err := usage.Import(cmd.Context(), db, m.DataDir, usage.FOCUS, filepath.Base(path), f, m.Now(), progress)
	if err != nil {
		return err
	}
	im := res.Import
	if res.Already {
		fmt.Fprintf(m.Stdout, "%s: already imported (same content as %s, %s); nothing changed\n", path, im.Name, im.ImportedAt.Format(time.RFC3339))
		return nil
	}
	var totals []string
	for c, v := range im.Totals {
		totals = append(totals, v+" "+c)
	}
	sort.Strings(totals)
	fmt.Fprintf(m.Stdout, "%s: imported %d usage rows for %s (EffectiveCost %s)\n", path, im.Rows, strings.Join(im.Months, ", "), strings.Join(totals, ", "))
	return nil
}

// isTerminal reports whether w is a terminal (for progress bars).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
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
