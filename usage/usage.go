// Package usage keeps the usage files of a server in its data directory —
// FOCUS cost and usage, and Power Platform activity: each import is
// validated whole (a bad row names its file and line, and nothing is kept),
// stored once by content hash under DATA_DIR/usage/{kind}/, and recorded in the store with its rows, totals by
// currency and the months its rows fall in — so importing the same file
// again counts nothing twice, and a run reads only the files of its months.
package usage

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/zeebo/xxh3"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/focus"
)

// Store is where imports are recorded.
type Store = partnerlink.UsageStore

// Recorder is the part of the store an import of one file needs.
type Recorder interface {
	UsageImportByHash(ctx context.Context, hash string) (*partnerlink.UsageImport, error)
	UsageImportByContent(ctx context.Context, kind, content string) (*partnerlink.UsageImport, error)
	RecordUsageImport(ctx context.Context, im partnerlink.UsageImport) (bool, error)
}

// Kind is a kind of input file: its name in the store and how a file of it
// is read whole (every row validated) into its summary (rows, months,
// totals). An error names the file and line.
type Kind struct {
	Name      string
	Summarize func(f *os.File, name string) (*partnerlink.UsageImport, error)
}

// FOCUS is cost and usage in FinOps FOCUS (docs/api.md#focus-usage).
var FOCUS = Kind{Name: "focus", Summarize: summarize}

// Result tells what an import did.
type Result struct {
	Import  partnerlink.UsageImport
	Already bool // the same content was imported before; nothing changed
}

// Import validates and stores one file of a kind read from r. progress,
// when not nil, wraps the reader (a progress bar on a terminal).
func Import(ctx context.Context, store Recorder, dataDir string, kind Kind, name string, r io.Reader, now time.Time,
	progress func(io.Reader) io.Reader) (*Result, error) {
	st, err := Stage(ctx, store, dataDir, kind, name, r, now, progress)
	if err != nil {
		return nil, err
	}
	defer st.Discard()
	if st.Previous != nil {
		return &Result{Import: *st.Previous, Already: true}, nil
	}
	if err := st.Keep(); err != nil {
		return nil, err
	}
	created, err := store.RecordUsageImport(ctx, st.Import)
	if err != nil {
		st.Unkeep()
		return nil, err
	}
	if !created {
		// Another import recorded the same bytes, or the same rows in
		// other bytes, meanwhile: the latter keeps its own file.
		if prev, err := store.UsageImportByContent(ctx, kind.Name, st.Import.Content); err == nil && prev.Hash != st.Import.Hash {
			st.Unkeep()
			return &Result{Import: *prev, Already: true}, nil
		}
	}
	return &Result{Import: st.Import, Already: !created}, nil
}

// Staged is a file read, hashed and validated in the data directory, not
// yet kept: an import of several files (an export run) stages them all
// before it keeps any (all or nothing).
type Staged struct {
	// Import is the file's summary; Previous the earlier import of the
	// same content, if any (then nothing needs keeping).
	Import   partnerlink.UsageImport
	Previous *partnerlink.UsageImport
	dataDir  string
	tmp      *os.File
	kept     bool
}

// Stage copies r into the data directory while hashing it, and validates
// it whole unless the same content was imported before.
func Stage(ctx context.Context, store Recorder, dataDir string, kind Kind, name string, r io.Reader, now time.Time,
	progress func(io.Reader) io.Reader) (*Staged, error) {
	dir := filepath.Join(dataDir, "usage", kind.Name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("usage: create %s: %w", dir, err)
	}
	// Copy to a temporary file while hashing: the file is read once from
	// its source, then scanned from disk.
	// Files left by imports that died go first; this one's file is locked
	// while it runs, so no other import takes it for stale.
	if _, _, err := removeStaleIn(dir); err != nil {
		return nil, err
	}
	tmp, err := createLocked(dir)
	if err != nil {
		return nil, err
	}
	st := &Staged{dataDir: dataDir, tmp: tmp}
	if progress != nil {
		r = progress(r)
	}
	hash, err := copyHashing(tmp, r)
	if err != nil {
		st.Discard()
		return nil, fmt.Errorf("usage: read %s: %w", name, err)
	}
	if prev, err := store.UsageImportByHash(ctx, hash); err == nil {
		st.Previous, st.Import = prev, *prev
		return st, nil
	}
	if _, err := tmp.Seek(0, io.SeekStart); err != nil {
		st.Discard()
		return nil, err
	}
	im, err := kind.Summarize(tmp, name)
	if err != nil {
		st.Discard()
		return nil, err
	}
	im.Hash, im.Kind, im.Name, im.ImportedAt = hash, kind.Name, name, now.UTC()
	im.Path = filepath.Join("usage", kind.Name, hash+extension(tmp))
	st.Import = *im
	// The same rows in other bytes (a gzip copy, other line ends, as
	// Parquet) are the same usage: counted once (docs/rules.md#usage-input).
	if prev, err := store.UsageImportByContent(ctx, kind.Name, im.Content); err == nil {
		st.Previous, st.Import = prev, *prev
	} else if partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		st.Discard()
		return nil, err
	}
	return st, nil
}

// copyHashing copies r to w and returns the SHA-256 of the bytes (hex),
// hashed by a second goroutine as they are written: hashing a large file
// takes about as long as writing it (a 2.6 GB file: 1.7 and 1 s).
func copyHashing(w io.Writer, r io.Reader) (string, error) {
	const bufs, size = 4, 1 << 20
	free, full := make(chan []byte, bufs), make(chan []byte, bufs)
	for range bufs {
		free <- make([]byte, size)
	}
	h := sha256.New()
	hashed := make(chan struct{})
	go func() {
		defer close(hashed)
		for b := range full {
			h.Write(b)
			free <- b[:cap(b)]
		}
	}()
	var err error
	for {
		b := <-free
		n, rerr := io.ReadFull(r, b)
		if n > 0 {
			if _, err = w.Write(b[:n]); err != nil {
				break
			}
			full <- b[:n]
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break // the end of r
		}
		if err = rerr; err != nil {
			break
		}
	}
	close(full)
	<-hashed
	return hex.EncodeToString(h.Sum(nil)), err
}

// Keep moves a staged file to its place (by content hash); nothing to do
// for content imported before.
func (st *Staged) Keep() error {
	if st.Previous != nil || st.kept {
		return nil
	}
	if err := st.tmp.Sync(); err != nil {
		return err
	}
	if err := os.Rename(st.tmp.Name(), filepath.Join(st.dataDir, st.Import.Path)); err != nil {
		return fmt.Errorf("usage: keep %s: %w", st.Import.Name, err)
	}
	st.kept = true
	return nil
}

// Unkeep removes a kept file whose import could not be recorded.
func (st *Staged) Unkeep() {
	if st.kept {
		os.Remove(filepath.Join(st.dataDir, st.Import.Path))
		st.kept = false
	}
}

// Discard drops the staged copy (after Keep: only closes it).
func (st *Staged) Discard() {
	st.tmp.Close()
	if !st.kept {
		os.Remove(st.tmp.Name())
	}
}

// summarize reads every row (any bad row fails the import) and returns the
// row count, EffectiveCost totals by currency and the months covered.
func summarize(f *os.File, name string) (*partnerlink.UsageImport, error) {
	const workers = 2
	type acc struct {
		rows   int64
		totals map[string]*focus.Sum
		months map[string]bool
		usd    bool
		last   time.Time // the last row's ChargePeriodStart, its month noted
		rowSum xxh3.Uint128
		key    []byte
	}
	accs := make([]acc, workers)
	for i := range accs {
		accs[i] = acc{totals: map[string]*focus.Sum{}, months: map[string]bool{}}
	}
	err := focus.Scan(f, name, focus.Options{Workers: workers}, func(w int, row *focus.Row) error {
		a := &accs[w]
		a.rows++
		s := a.totals[string(row.BillingCurrency)] // no copy of the bytes for a lookup
		if s == nil {
			s = &focus.Sum{}
			a.totals[string(row.BillingCurrency)] = s
		}
		s.Add(row.EffectiveCost)
		// Rows come grouped by day: a month is noted when the start changes.
		if !row.ChargePeriodStart.Equal(a.last) || a.rows == 1 {
			a.last = row.ChargePeriodStart
			a.months[row.ChargePeriodStart.UTC().Format("2006-01")] = true
		}
		a.usd = a.usd || row.HasEffectiveCostInUSD
		a.key = rowKey(a.key[:0], row)
		h := xxh3.Hash128(a.key)
		a.rowSum.Hi += h.Hi
		a.rowSum.Lo += h.Lo
		return nil
	})
	if err != nil {
		return nil, err
	}
	im := &partnerlink.UsageImport{Totals: map[string]string{}}
	totals := map[string]*focus.Sum{}
	months := map[string]bool{}
	var sum xxh3.Uint128
	for _, a := range accs {
		sum.Hi += a.rowSum.Hi
		sum.Lo += a.rowSum.Lo
		im.Rows += a.rows
		im.HasUSD = im.HasUSD || a.usd
		for c, s := range a.totals {
			if totals[c] == nil {
				totals[c] = &focus.Sum{}
			}
			totals[c].AddSum(*s)
		}
		for m := range a.months {
			months[m] = true
		}
	}
	for c, s := range totals {
		im.Totals[c] = s.String()
	}
	for m := range months {
		im.Months = append(im.Months, m)
	}
	sort.Strings(im.Months)
	if im.Rows > 0 {
		im.Content = fmt.Sprintf("rows-v1:%d:%016x%016x", im.Rows, sum.Hi, sum.Lo)
	}
	return im, nil
}

// rowKey appends the values of a row that the digest of a file's rows
// (UsageImport.Content) is made of, as read: the digest is the sum of the
// rows' 128-bit hashes, so the rows' order and their encoding in the file
// do not change it, and equal amounts give equal keys (1.5 and 1.50).
func rowKey(b []byte, r *focus.Row) []byte {
	for _, t := range []time.Time{r.ChargePeriodStart, r.ChargePeriodEnd} {
		b = binary.LittleEndian.AppendUint64(b, uint64(t.Unix()))
		b = binary.LittleEndian.AppendUint32(b, uint32(t.Nanosecond()))
	}
	for _, f := range [][]byte{r.ChargeCategory, r.ResourceID, r.ServiceName, r.BillingCurrency} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = append(b, r.Subscription[:]...)
	b = r.EffectiveCost.AppendKey(b)
	b = r.BilledCost.AppendKey(b)
	if r.HasEffectiveCostInUSD {
		b = r.EffectiveCostInUSD.AppendKey(append(b, 'u'))
	}
	return b
}

// extension keeps the kind of file visible in the data directory.
func extension(f *os.File) string {
	head := make([]byte, 4)
	f.ReadAt(head, 0)
	switch {
	case string(head) == "PAR1":
		return ".parquet"
	case head[0] == 0x1f && head[1] == 0x8b:
		return ".csv.gz"
	}
	return ".csv"
}

// Files returns the absolute paths of the files of a kind whose rows fall
// in [from, to), in import order.
func Files(ctx context.Context, store Store, dataDir string, kind Kind, from, to time.Time) ([]string, error) {
	var months []string
	for m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		months = append(months, m.Format("2006-01"))
	}
	ims, err := store.UsageImports(ctx, kind.Name, months)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, im := range ims {
		out = append(out, filepath.Join(dataDir, im.Path))
	}
	return out, nil
}
