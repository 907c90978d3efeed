package usage

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"github.com/partnerlink/partnerlink"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink/powerplatform"
)

// Activity is Power Platform activity and Customer Insights unified
// profiles (docs/api.md#activity-csv): CSV, plain or gzip, told apart by their header.
var Activity = Kind{Name: "activity", Summarize: summarizeActivity}

// summarizeActivity validates the whole file with the powerplatform reader
// (a bad row names the file and line), then counts its rows and the months
// they fall in (Date's month, or Month for unified profiles).
func summarizeActivity(f *os.File, name string) (*partnerlink.UsageImport, error) {
	if err := powerplatform.NewActivity().ReadCSV(name, f); err != nil {
		return nil, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("usage: rewind %s: %w", name, err)
	}
	rows, months, err := activityMonths(f, name)
	if err != nil {
		return nil, err
	}
	return &partnerlink.UsageImport{Rows: rows, Months: months, Totals: map[string]string{}}, nil
}

// activityMonths counts the rows of a file ReadCSV accepted and lists the
// months of its Date or Month column, sorted.
func activityMonths(r io.Reader, name string) (int64, []string, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var in io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return 0, nil, fmt.Errorf("usage: %s: %w", name, err)
		}
		defer zr.Close()
		in = zr
	}
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err != nil {
		return 0, nil, fmt.Errorf("usage: %s: read header: %w", name, err)
	}
	col := -1
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		if h == "date" || h == "month" {
			col = i
			break
		}
	}
	if col < 0 {
		return 0, nil, fmt.Errorf("usage: %s: no Date or Month column", name)
	}
	var rows int64
	seen := map[string]bool{}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, nil, fmt.Errorf("usage: %s: %w", name, err)
		}
		rows++
		if v := rec[col]; len(v) >= 7 && !seen[v[:7]] {
			seen[strings.Clone(v[:7])] = true
		}
	}
	months := make([]string, 0, len(seen))
	for m := range seen {
		months = append(months, m)
	}
	sort.Strings(months)
	return rows, months, nil
}

// LoadActivity reads every imported activity and unified-profiles file
// with rows before to into one Activity. Every earlier month is included,
// not only those of a run's period: the latest-partner rule looks at
// activity "at or before the end of the month" (docs/rules.md#power-platform). Errors name the
// file as it was imported.
func LoadActivity(ctx context.Context, store Store, dataDir string, to time.Time) (*powerplatform.Activity, []string, error) {
	ims, err := store.UsageImports(ctx, Activity.Name, nil)
	if err != nil {
		return nil, nil, err
	}
	last := to.UTC().Add(-time.Nanosecond).Format("2006-01")
	a := powerplatform.NewActivity()
	var files []string
	for _, im := range ims {
		if len(im.Months) > 0 && im.Months[0] > last {
			continue
		}
		path := filepath.Join(dataDir, im.Path)
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, fmt.Errorf("usage: activity file %s (imported as %s): %w", path, im.Name, err)
		}
		err = a.ReadCSV(im.Name, f)
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		files = append(files, path)
	}
	return a, files, nil
}

// CheckActivity tells whether a new activity or profiles file agrees with
// the files imported before: a Customer Insights instance has one
// unified-profiles count per month, and a resource stays in one tenant,
// across files too. Without this check, such a file would be stored and
// every later run on the server's state would fail on it. The error names
// the new file and line, and the earlier file.
func CheckActivity(ctx context.Context, store Store, dataDir, name string, r io.Reader) error {
	a, _, err := LoadActivity(ctx, store, dataDir, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return err
	}
	return a.ReadCSV(name, r)
}
