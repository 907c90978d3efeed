package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/exports"
	"github.com/partnerlink/partnerlink/snapshot"
	"github.com/partnerlink/partnerlink/sqlstore"
	"github.com/partnerlink/partnerlink/usage"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/partnerlink/partnerlink/identity"
	"github.com/partnerlink/partnerlink/notify"
	"github.com/partnerlink/partnerlink/server"
	"github.com/partnerlink/partnerlink/world"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newImportCmd, newExportCmd) }

func newImportCmd(m *Main) *cobra.Command {
	var snapshotTenant, atS string
	var webhookAllow []string
	cmd := &cobra.Command{
		Use:   "import FILE|SOURCE_URL...",
		Short: "Import a world document, Azure snapshots, FOCUS usage or Power Platform activity into the data directory",
		Long: `Import a world document (docs/api.md#world-document): it replaces the directory, partner registry, role
model, links and Power Platform state, in one transaction (all or nothing; importing the same file
twice gives the same state). Secrets in the document are stored hashed; secrets already stored for
principals that remain are kept.

FOCUS usage files (docs/api.md#focus-usage) are validated whole (a bad row is named by file and line and nothing
is imported) and kept in DATA_DIR/usage/ by content hash: importing the same file twice counts it
once. A usage source URL (azblob://CONTAINER/PREFIX, s3://BUCKET/PREFIX, gs://BUCKET/PREFIX or
file:///FOLDER) imports every cost export run found under it through its manifest.json, each run
all or nothing and once; a later run of the same export and period supersedes an earlier one
(docs/usage-sources.md). Power Platform activity and Customer Insights profile files (docs/api.md#activity-csv) are kept the same way.

Azure snapshots — the JSON of 'az role assignment list --all' (and 'az role definition list'),
and Azure Resource Graph exports of authorizationresources and resourcecontainers — are applied to
the state at --at (default now): role assignments that disappeared since the last snapshot are
closed, new ones opened, subscriptions and management groups updated. 'az' output carries no
tenant id: give it with --tenant.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			db, err := server.OpenStore(cmd.Context(), m.DataDir, m.DSN)
			if err != nil {
				return err
			}
			defer db.Close()
			for _, path := range args {
				if exports.IsSource(path) {
					if err := importSource(cmd, m, db, path); err != nil {
						return err
					}
					continue
				}
				if _, err := os.Stat(path); err != nil && strings.Contains(path, "://") {
					return partnerlink.Errorf(partnerlink.EINVALID, "%s is neither a file nor a usage source URL: expected a file or %s",
						exports.Redact(path), exports.SourceForms)
				}
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
					if err := checkWebhooks(path, doc, webhookAllow); err != nil {
						return err
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
				case "activity":
					if err := importActivity(cmd, m, db, path); err != nil {
						return err
					}
				case "snapshot":
					at := m.Now().UTC()
					if atS != "" {
						if at, err = parseDay("--at", atS); err != nil {
							return err
						}
					}
					if err := importSnapshot(cmd, m, db, path, snapshotTenant, at); err != nil {
						return err
					}
				default:
					return partnerlink.Errorf(partnerlink.EINVALID,
						"%s: not a world document (JSON), an Azure snapshot (az or Resource Graph JSON), FOCUS usage (CSV with a ChargePeriodStart column, gzip or Parquet) nor Power Platform activity (Date,TenantId,ResourceId,UserId,Activity or Month,TenantId,ResourceId,UnifiedProfiles)", path)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&snapshotTenant, "tenant", "", "tenant of an az snapshot (its rows carry no tenant id)")
	cmd.Flags().StringVar(&atS, "at", "", "instant a snapshot was taken (RFC 3339 or YYYY-MM-DD; default now)")
	cmd.Flags().StringSliceVar(&webhookAllow, "webhook-allow", nil,
		"accept a world document's tenant webhookUrl on these non-public targets (as serve --webhook-allow, which delivery then needs too)")
	return cmd
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
	first, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err == io.ErrUnexpectedEOF {
		// A gzip stream cut before its first line (docs/rules.md, "Usage input").
		return "", partnerlink.Errorf(partnerlink.EINVALID, "%s: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written)", path)
	}
	trimmed := strings.TrimLeft(first, " \t\r\n\ufeff")
	switch {
	case strings.HasPrefix(trimmed, "["):
		return "snapshot", nil
	case strings.HasPrefix(trimmed, "{"):
		return jsonKind(path)
	case strings.Contains(strings.ToLower(first), "chargeperiodstart"):
		return "usage", nil
	case isActivityHeader(first):
		return "activity", nil
	}
	return "other", nil
}

// jsonKind tells a world document from an Azure export by its top-level
// keys (a world document has "version", "tenants", "principals"…; Resource
// Graph and ARM lists have "data", "count" or "value").
func jsonKind(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	dec := json.NewDecoder(bufio.NewReader(f))
	if _, err := dec.Token(); err != nil {
		return "world", nil // let the world reader name the error
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return "world", nil
		}
		switch tok {
		case "version", "partners", "tenants", "principals", "links", "roleAssignments":
			return "world", nil
		case "data", "count", "value", "totalRecords", "skip_token":
			return "snapshot", nil
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "world", nil
		}
	}
	return "world", nil
}

// importSnapshot applies an Azure export (az role assignment list, Resource
// Graph) to the state at instant at: what disappeared is closed, what
// appeared opened (see package snapshot), in one transaction.
// checkWebhooks applies the webhook rules (docs/operations.md, "Webhooks")
// to the tenants' webhookUrl of a world document, as far as a URL says by
// itself: https, no credentials, no address that is not public unless
// allowed (import --webhook-allow, as serve's).
func checkWebhooks(path string, doc *world.Document, allow []string) error {
	policy, err := notify.ParsePolicy(allow)
	if err != nil {
		return err
	}
	for _, t := range doc.Tenants {
		if t.WebhookURL == "" {
			continue
		}
		if _, err := policy.CheckSyntax(t.WebhookURL); err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: tenant %s, webhookUrl: %s (import --webhook-allow accepts a non-public target, as serve --webhook-allow delivers to it)",
				path, t.TenantID, partnerlink.ErrorMessage(err))
		}
	}
	return nil
}

func importSnapshot(cmd *cobra.Command, m *Main, db *sqlstore.DB, path, tenant string, at time.Time) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	var opts []snapshot.Option
	if tenant != "" {
		opts = append(opts, snapshot.DefaultTenant(tenant))
	}
	snap, err := snapshot.Read(f, path, opts...)
	f.Close()
	if err != nil {
		return err
	}
	// Read, applied and written in one transaction, so that a link the
	// server changes meanwhile is neither lost nor undone.
	var changes snapshot.Changes
	err = db.UpdateWorld(cmd.Context(), func(doc *world.Document) (bool, error) {
		var err error
		changes, err = snapshot.Apply(doc, snap, at, nil)
		return changes.Changed(), err
	}, identity.HashSecret)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(m.Stdout, "%s: %s snapshot at %s: %s\n", path, snap.Format, at.Format(time.RFC3339), changes.String())
	return nil
}

// importUsage stores one FOCUS file in the data directory (docs/api.md#focus-usage), with
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
	if im.Rows == 0 {
		fmt.Fprintf(m.Stdout, "%s: imported; it has no usage rows (a header only)\n", path)
	} else {
		fmt.Fprintf(m.Stdout, "%s: imported %d usage rows for %s (EffectiveCost %s)\n", path, im.Rows, strings.Join(im.Months, ", "), strings.Join(totals, ", "))
	}
	splitUsage(cmd.Context(), m, db, im)
	return nil
}

// splitUsage lays imported files out in the partitioned usage store
// (docs/scale.md). The import stands if it fails: the first close that
// reads the files splits them then.
func splitUsage(ctx context.Context, m *Main, db *sqlstore.DB, ims ...partnerlink.UsageImport) {
	if _, err := reportService(m, db, 0).SplitUsage(ctx, ims...); err != nil {
		fmt.Fprintf(m.Stderr, "warning: the usage store: %v; the first close will lay the files out\n", err)
	}
}

// importSource imports every export run at a usage source that was not
// imported before (docs/usage-sources.md).
func importSource(cmd *cobra.Command, m *Main, db *sqlstore.DB, url string) error {
	var progress exports.Progress
	if isTerminal(m.Stderr) {
		progress = func(name string, size int64, r io.Reader) io.Reader {
			bar := progressbar.DefaultBytes(size, "reading "+name)
			pr := progressbar.NewReader(r, bar)
			return &pr
		}
	}
	imported, shown := 0, exports.Redact(url)
	found, err := exports.ImportURL(cmd.Context(), url, db, m.DataDir, m.Now(), progress, func(r exports.Run, res *exports.Imported) {
		what := fmt.Sprintf("%s: export run %s", shown, r.ManifestKey)
		if res.Already {
			fmt.Fprintf(m.Stdout, "%s: already imported (%s); nothing changed\n", what, res.Run.ImportedAt.Format(time.RFC3339))
			return
		}
		imported++
		fmt.Fprintf(m.Stdout, "%s: imported %d usage rows from %d parts (%d new)\n", what, res.Run.Rows, len(res.Run.Files), res.New)
		for _, h := range res.Run.Files {
			if im, err := db.UsageImportByHash(cmd.Context(), h); err == nil {
				splitUsage(cmd.Context(), m, db, *im)
			}
		}
	})
	if found > 0 || err == nil {
		fmt.Fprintf(m.Stdout, "%s: %d export runs found, %d imported\n", shown, found, imported)
	}
	return err
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
