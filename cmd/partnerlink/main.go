// Command partnerlink is the whole product in one binary: the server
// (serve), the partner's client (login, link), the operator's tools (import,
// export, report, explain) and offline attribution (attribute).
//
// This package only wires things together; the work is done in the packages
// it imports.
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/partnerlink/partnerlink/usagestore"

	"github.com/partnerlink/partnerlink"
	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd(NewMain()).Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", partnerlinkMessage(err))
		os.Exit(1)
	}
}

// partnerlinkMessage prints domain errors as their message and anything else
// as it is (a CLI user is also the operator, so internal detail helps).
func partnerlinkMessage(err error) string {
	// Several failures (the runs of a usage source) are each told, a line
	// each.
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var lines []string
		for _, e := range j.Unwrap() {
			lines = append(lines, partnerlinkMessage(e))
		}
		return strings.Join(lines, "\n")
	}
	if partnerlink.ErrorCode(err) == partnerlink.EINTERNAL {
		return err.Error()
	}
	return partnerlink.ErrorMessage(err)
}

// newRootCmd builds the command tree. Each command lives in its own file as
// newXxxCmd(m *Main).
func newRootCmd(m *Main) *cobra.Command {
	root := &cobra.Command{
		Use:           "partnerlink",
		Short:         "Partner Admin Link: link partner IDs to credentials and credit partners with the consumption they drive",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       partnerlink.Version,
	}
	root.PersistentFlags().StringVar(&m.DataDir, "data-dir", envOr("PARTNERLINK_DATA_DIR", defaultDataDir),
		"directory holding the SQLite database, usage files, signing keys and TLS material (env PARTNERLINK_DATA_DIR)")
	root.PersistentFlags().StringVar(&m.DSN, "db", os.Getenv("PARTNERLINK_DB"),
		"PostgreSQL URL (postgres://…) instead of SQLite in the data directory (env PARTNERLINK_DB)")
	root.PersistentFlags().StringVar(&m.UsageStore, "usage-store", os.Getenv("PARTNERLINK_USAGE_STORE"),
		"the partitioned usage store: file:///FOLDER, azblob://, s3:// or gs:// (env PARTNERLINK_USAGE_STORE; default DATA_DIR/usage-store; docs/scale.md)")
	root.PersistentFlags().IntVar(&m.UsageBuckets, "usage-buckets", usagestore.DefaultBuckets,
		"subscription buckets a month's usage is split into (docs/scale.md)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if m.UsageBuckets < 1 || m.UsageBuckets > usagestore.MaxBuckets {
			return partnerlink.Errorf(partnerlink.EINVALID, "--usage-buckets %d: expected 1 to %d (default %d; docs/scale.md)",
				m.UsageBuckets, usagestore.MaxBuckets, usagestore.DefaultBuckets)
		}
		return nil
	}
	for _, add := range commands {
		root.AddCommand(add(m))
	}
	return root
}

// commands lists the constructors of the top-level commands; each command's
// file appends itself in an init function, so adding a command touches only
// its own file.
var commands []func(*Main) *cobra.Command

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// defaultDataDir is where state lives without --data-dir or PARTNERLINK_DATA_DIR.
const defaultDataDir = "./partnerlink-data"

func versionString() string { return partnerlink.Version }
