package main

import (
	"fmt"
	"path/filepath"

	"github.com/partnerlink/partnerlink/identity"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newKeysCmd) }

// newKeysCmd manages the token signing keys in DATA_DIR/keys. The server
// also rotates on its own when the active key is 30 days old.
func newKeysCmd(m *Main) *cobra.Command {
	cmd := &cobra.Command{Use: "keys", Short: "Token signing keys (DATA_DIR/keys)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "rotate",
		Short: "Make a new signing key now; the old one keeps verifying until its tokens expire (a running server picks it up on restart)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ks, err := identity.OpenKeys(filepath.Join(m.DataDir, "keys"), identity.KeyOptions{Now: m.Now})
			if err != nil {
				return err
			}
			old := ks.ActiveKID()
			if err := ks.Rotate(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(m.Stdout, "signing key rotated: %s → %s\n", old, ks.ActiveKID())
			return err
		},
	})
	return cmd
}
