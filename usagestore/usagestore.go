// Package usagestore is the partitioned usage store (docs/scale.md): every
// imported FOCUS file is split into Parquet objects, one per month and
// subscription bucket, so that a partition of a close reads its own slice
// of usage and nothing else. The store is a folder of the data directory by
// default, or object storage (azblob://, s3://, gs://) through
// gocloud.dev/blob, the same abstraction the usage sources use.
package usagestore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
	"gocloud.dev/blob"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/attribution"
	"github.com/partnerlink/partnerlink/exports"
	"github.com/partnerlink/partnerlink/focus"
)

// DefaultBuckets is how many subscription buckets a month is split into:
// enough partitions to keep a few dozen workers busy, few enough that a
// small month's partitions are not mostly overhead (docs/scale.md).
const DefaultBuckets = 16

// MaxBuckets bounds the buckets of a month.
const MaxBuckets = 4096

// rowsPerGroup bounds a Parquet row group: a part is read in parallel by
// row group, and a writer holds one group per part in memory. Each group
// has its own dictionary of resource ids, resolved by the reader once per
// group: 262,144 rows read faster than fewer (a close credits its
// partitions in 10 % less time than with 131,072), for more memory while
// splitting (docs/scale.md).
const rowsPerGroup = 256 << 10

// Store is an open usage store.
type Store struct {
	URL     string // as shown (exports.Redact); it also names the store in the SQL store
	Buckets int
	bucket  *blob.Bucket
	prefix  string
}

// DefaultURL is the store in a data directory.
func DefaultURL(dataDir string) (string, error) {
	abs, err := filepath.Abs(filepath.Join(dataDir, "usage-store"))
	if err != nil {
		return "", err
	}
	return "file://" + filepath.ToSlash(abs), nil
}

// Open opens the store at rawURL (file:// folders are created).
func Open(ctx context.Context, rawURL string, buckets int) (*Store, error) {
	if buckets > MaxBuckets {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "--usage-buckets %d: at most %d buckets (a partition is a job of the queue)", buckets, MaxBuckets)
	}
	if dir, ok := strings.CutPrefix(rawURL, "file://"); ok {
		if u, err := url.Parse(rawURL); err == nil {
			dir = u.Path
		}
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "usage store %s: %v", exports.Redact(rawURL), err)
		}
		if err := sweepTemp(dir, time.Now()); err != nil {
			// Best effort: a store that cannot be swept (read-only to this
			// process, say) is read all the same.
			slog.Warn("usage store: stale temporary files not removed", "err", err)
		}
	}
	open := rawURL
	if strings.HasPrefix(rawURL, "file://") {
		// Parts are written beside their final name, not in the system's
		// temporary folder: a rename from another file system fails, and
		// a tmpfs would hold a large month in memory.
		open = addOption(rawURL, "no_tmp_dir", "1")
	}
	b, prefix, err := exports.OpenBucket(ctx, "usage store", open)
	if err != nil {
		return nil, err
	}
	return &Store{URL: exports.Redact(rawURL), Buckets: max(buckets, 1), bucket: b, prefix: prefix}, nil
}

// staleAfter is how long a part's temporary file goes unwritten before it
// is taken for one a killed import left: a part is written in about a
// second.
const staleAfter = time.Hour

// sweepTemp removes the temporary files of parts (NAME.parquet.RANDOM.tmp,
// written beside the part and renamed to it when whole) that a process
// killed while writing left in a file:// store.
func sweepTemp(dir string, now time.Time) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // taken away meanwhile
			}
			return err
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".tmp") || !strings.Contains(name, ".parquet.") {
			return nil
		}
		if info, err := d.Info(); err == nil && now.Sub(info.ModTime()) > staleAfter {
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("usage store: remove the stale temporary file %s: %w", path, err)
			}
		}
		return nil
	})
}

// addOption sets a query option of a URL unless it is set.
func addOption(rawURL, key, value string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return rawURL
	}
	q := u.Query()
	if q.Get(key) == "" {
		q.Set(key, value)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// Close releases the store.
func (s *Store) Close() error { return s.bucket.Close() }

// Key is where a file's part lives under the store's prefix:
// focus/buckets=N/month=YYYY-MM/bucket=BB/HASH.parquet, so that a
// partition is one folder.
func (s *Store) Key(month string, bucket int, hash string) string {
	return fmt.Sprintf("%sfocus/buckets=%d/month=%s/bucket=%02d/%s.parquet", s.prefix, s.Buckets, month, bucket, hash)
}

// Recorder is what the store records splits in.
type Recorder interface {
	UsageParts(ctx context.Context, store string, buckets int, hash string) ([]partnerlink.UsagePart, bool, error)
	RecordUsageSplit(ctx context.Context, store string, buckets int, hash string, parts []partnerlink.UsagePart, at time.Time) error
}

// Parts returns the parts of an imported file, splitting it first when it
// was not split in this store (path is the file as imported). Splitting is
// idempotent: a part's content depends only on the file, and it is
// recorded only once every part is written.
//
// A part recorded but gone from the store (a store lost, or not restored
// with the database) is written again from the file: the split is
// deterministic, so the parts are the ones recorded (docs/scale.md).
func (s *Store) Parts(ctx context.Context, rec Recorder, im partnerlink.UsageImport, path string, now time.Time) ([]partnerlink.UsagePart, error) {
	parts, ok, err := rec.UsageParts(ctx, s.URL, s.Buckets, im.Hash)
	if err != nil {
		return nil, err
	}
	if ok {
		gone, err := s.anyMissing(ctx, parts)
		if err != nil || !gone {
			return parts, err
		}
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("usage store: open %s: %w", path, err)
	}
	defer f.Close()
	split, err := s.Split(ctx, im.Hash, f, im.Name, im.HasUSD)
	if err != nil {
		return nil, err
	}
	if ok {
		return parts, nil
	}
	if err := rec.RecordUsageSplit(ctx, s.URL, s.Buckets, im.Hash, split, now); err != nil {
		return nil, err
	}
	return split, nil
}

// anyMissing reports whether any of parts is not in the store, asking for
// up to 16 at once.
func (s *Store) anyMissing(ctx context.Context, parts []partnerlink.UsagePart) (bool, error) {
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		missing bool
		errs    []error
	)
	sem := make(chan struct{}, 16)
	for _, p := range parts {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			ok, err := s.bucket.Exists(ctx, p.Key)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, s.errorf(err, "look for %s", p.Key))
			} else if !ok {
				missing = true
			}
		})
	}
	wg.Wait()
	return missing, errors.Join(errs...)
}

// splitRow is a row on its way to its part; the part's lane writes its
// amounts as the split stores them (amountForm).
type splitRow struct {
	start, end                                 time.Time
	category, sub, resource, service, currency string
	effective, billed, usd                     focus.Amount
}

// pqRow is a usage row as the store keeps it: the columns attribution reads,
// instants to the nanosecond, amounts as exact decimal text. pqRowUSD adds
// Azure's x_EffectiveCostInUsd; pqDecRow and pqDecRowUSD hold the amounts
// as INT64 decimals of the file's scale (amountForm). Their first columns
// are pqKeys' (an embedded struct's fields are columns of their own).
type pqRow struct {
	pqKeys
	EffectiveCost string `parquet:"EffectiveCost,zstd"`
	BilledCost    string `parquet:"BilledCost,zstd"`
}

type pqKeys struct {
	ChargePeriodStart time.Time `parquet:"ChargePeriodStart,timestamp(nanosecond),dict,zstd"`
	ChargePeriodEnd   time.Time `parquet:"ChargePeriodEnd,timestamp(nanosecond),dict,zstd"`
	ChargeCategory    string    `parquet:"ChargeCategory,dict,zstd"`
	SubAccountID      string    `parquet:"SubAccountId,dict,zstd"`
	ResourceID        string    `parquet:"ResourceId,dict,zstd"`
	ServiceName       string    `parquet:"ServiceName,dict,zstd"`
	BillingCurrency   string    `parquet:"BillingCurrency,dict,zstd"`
}

type pqRowUSD struct {
	pqRow
	EffectiveCostInUSD string `parquet:"x_EffectiveCostInUsd,zstd"`
}

type pqDecRow struct {
	pqKeys
	EffectiveCost int64 `parquet:"EffectiveCost,decimal(0:18),delta"`
	BilledCost    int64 `parquet:"BilledCost,decimal(0:18),delta"`
}

type pqDecRowUSD struct {
	pqDecRow
	EffectiveCostInUSD int64 `parquet:"x_EffectiveCostInUsd,decimal(0:18),delta"`
}

// amountForm is how a split stores a file's amounts: as INT64 decimals of
// one scale (the most digits any of its amounts has after the point) when
// every amount then fits 18 digits, else as text. A decimal is read as it
// is, where text is parsed row by row (docs/scale.md, "The usage store").
type amountForm struct {
	decimal bool
	scale   int
}

// amountFormOf reads the file's amounts for the form they are stored in.
func amountFormOf(ctx context.Context, rd io.Reader, name string, hasUSD bool) (amountForm, error) {
	type most struct {
		whole, decimals int
		beyond          bool // an amount beyond 18 digits
		rows            int
		_               [32]byte // workers' maxima on their own cache lines
	}
	workers := runtime.GOMAXPROCS(0)
	ms := make([]most, workers)
	err := focus.Scan(rd, name, focus.Options{Workers: workers, Stored: true}, func(w int, r *focus.Row) error {
		m := &ms[w]
		if m.rows++; m.rows%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		note := func(a focus.Amount) {
			whole, decimals, ok := a.Digits()
			m.whole, m.decimals, m.beyond = max(m.whole, whole), max(m.decimals, decimals), m.beyond || !ok
		}
		note(r.EffectiveCost)
		note(r.BilledCost)
		if hasUSD {
			note(r.EffectiveCostInUSD)
		}
		return nil
	})
	if err != nil {
		return amountForm{}, err
	}
	var all most
	for _, m := range ms {
		all.whole, all.decimals, all.beyond = max(all.whole, m.whole), max(all.decimals, m.decimals), all.beyond || m.beyond
	}
	if all.beyond || all.whole+all.decimals > 18 {
		return amountForm{}, nil
	}
	return amountForm{decimal: true, scale: all.decimals}, nil
}

// newRowWriter starts a part's Parquet writer for rows of type T, made
// from splitRows by row.
func newRowWriter[T any](w io.Writer, opts []parquet.WriterOption, row func(*splitRow) (T, error)) (io.Closer, func([]splitRow) error) {
	pw := parquet.NewGenericWriter[T](w, opts...)
	buf := make([]T, 0, batchRows)
	return pw, func(rows []splitRow) error {
		buf = buf[:0]
		for i := range rows {
			r, err := row(&rows[i])
			if err != nil {
				return err
			}
			buf = append(buf, r)
		}
		_, err := pw.Write(buf)
		return err
	}
}

// rowWriter starts a part's writer for the split's amount form.
func rowWriter(w io.Writer, form amountForm, hasUSD bool) (io.Closer, func([]splitRow) error) {
	opts := []parquet.WriterOption{parquet.MaxRowsPerRowGroup(rowsPerGroup)}
	keys := func(r *splitRow) pqKeys {
		return pqKeys{r.start, r.end, r.category, r.sub, r.resource, r.service, r.currency}
	}
	text := func(r *splitRow) pqRow { return pqRow{keys(r), r.effective.String(), r.billed.String()} }
	if !form.decimal {
		if hasUSD {
			return newRowWriter(w, opts, func(r *splitRow) (pqRowUSD, error) { return pqRowUSD{text(r), r.usd.String()}, nil })
		}
		return newRowWriter(w, opts, func(r *splitRow) (pqRow, error) { return text(r), nil })
	}
	// The scale is the file's: the tags are replaced (by Go field name).
	// The decimals are delta-encoded (DELTA_BINARY_PACKED) and not
	// compressed: a cost of a few digits takes its bits, not 8 bytes, and
	// zstd finds nothing more in them; reading them so is quicker than
	// decompressing plain ones (docs/scale.md, "The usage store").
	for _, c := range [][2]string{{"EffectiveCost", "EffectiveCost"}, {"BilledCost", "BilledCost"}, {"EffectiveCostInUSD", "x_EffectiveCostInUsd"}} {
		field, col := c[0], c[1]
		opts = append(opts, parquet.StructTag(reflect.StructTag(fmt.Sprintf(`parquet:"%s,decimal(%d:18),delta"`, col, form.scale)), field))
	}
	unscaled := func(a focus.Amount) (int64, error) {
		n, ok := a.Unscaled(form.scale)
		if !ok { // amountFormOf read every amount: a file changed under the split
			return 0, partnerlink.Errorf(partnerlink.EINTERNAL, "usage store: the amount %s does not fit the split's scale %d", a, form.scale)
		}
		return n, nil
	}
	dec := func(r *splitRow) (pqDecRow, error) {
		eff, err := unscaled(r.effective)
		if err != nil {
			return pqDecRow{}, err
		}
		billed, err := unscaled(r.billed)
		return pqDecRow{keys(r), eff, billed}, err
	}
	if hasUSD {
		return newRowWriter(w, opts, func(r *splitRow) (pqDecRowUSD, error) {
			row, err := dec(r)
			if err != nil {
				return pqDecRowUSD{}, err
			}
			usd, err := unscaled(r.usd)
			return pqDecRowUSD{row, usd}, err
		})
	}
	return newRowWriter(w, opts, dec)
}

// The years a nanosecond timestamp holds whole: a row outside them is
// refused rather than stored wrong.
const minYear, maxYear = 1678, 2261

func storable(t time.Time) bool { y := t.UTC().Year(); return y >= minYear && y <= maxYear }

// partWriter streams one part's rows into its object. Its rows are
// written by one lane (a goroutine), in the order they were read.
type partWriter struct {
	part  partnerlink.UsagePart
	obj   *blob.Writer
	n     *countWriter
	pq    io.Closer
	write func(rows []splitRow) error
	batch []splitRow
	lane  int
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

// batchRows is how many rows of one part go to its lane at a time.
const batchRows = 2048

// laneWork is a batch of a part's rows, or (rows nil) the end of the part.
type laneWork struct {
	pw   *partWriter
	rows []splitRow
}

// Split reads a FOCUS file in order and writes its rows into one part per
// month and bucket, keeping the order of rows within each part (the first
// spelling of a resource id is its earliest row: docs/rules.md). It reads
// the file twice: first its amounts, for the form they are stored in
// (amountForm), then its rows. One goroutine reads; the parts are encoded
// and compressed by one goroutine per core ("lanes", each part by one:
// encoding is most of the work, so the reader shares a core with a lane).
// Nothing is recorded; on an error the objects written are left to be
// overwritten by the next split.
func (s *Store) Split(ctx context.Context, hash string, rd io.ReadSeeker, name string, hasUSD bool) ([]partnerlink.UsagePart, error) {
	form, err := amountFormOf(ctx, rd, name, hasUSD)
	if err != nil {
		return nil, err
	}
	if _, err := rd.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("usage store: read %s again: %w", name, err)
	}
	ctx, cancel := context.WithCancel(ctx) // cancelling before Close discards a blob.Writer's object
	defer cancel()
	var firstErr error
	var errOnce sync.Once
	var failed atomic.Bool
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err })
		failed.Store(true)
	}
	lanes := make([]chan laneWork, max(runtime.GOMAXPROCS(0), 2))
	var wg sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan laneWork, 4)
		wg.Go(func() {
			for w := range lanes[i] {
				if failed.Load() {
					continue
				}
				if err := w.pw.finish(w.rows, s); err != nil {
					fail(err)
				}
			}
		})
	}
	writers := map[[2]int]*partWriter{} // (month as yyyy*12+m, bucket)
	var order [][2]int
	open := func(month string, bucket int) (*partWriter, error) {
		key := s.Key(month, bucket, hash)
		obj, err := s.bucket.NewWriter(ctx, key, &blob.WriterOptions{ContentType: "application/vnd.apache.parquet"})
		if err != nil {
			return nil, s.errorf(err, "write %s", key)
		}
		cw := &countWriter{w: obj}
		pw := &partWriter{part: partnerlink.UsagePart{Hash: hash, Month: month, Bucket: bucket, Key: key}, obj: obj, n: cw,
			lane: len(order) % len(lanes), batch: make([]splitRow, 0, batchRows)}
		pw.pq, pw.write = rowWriter(cw, form, hasUSD)
		return pw, nil
	}
	// Strings that repeat from row to row are shared, not copied each time.
	var category, currency, service, resource []byte
	var categoryS, currencyS, serviceS, resourceS, subS string
	intern := func(b []byte, last *[]byte, s *string) string {
		if !bytes.Equal(b, *last) || *s == "" {
			*last, *s = append((*last)[:0], b...), string(b)
		}
		return *s
	}
	var subGUID focus.GUID
	var lastStart, lastEnd time.Time
	var pw *partWriter // the last row's part
	var seen int
	err = focus.Scan(rd, name, focus.Options{Workers: 1, Stored: true}, func(_ int, r *focus.Row) error {
		if failed.Load() {
			return firstErr
		}
		if seen++; seen%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		// Rows come grouped by day and subscription: their checks and
		// their part are worked out when either changes.
		if sameStart := pw != nil && r.ChargePeriodStart.Equal(lastStart); !sameStart || !r.ChargePeriodEnd.Equal(lastEnd) || r.Subscription != subGUID {
			if !storable(r.ChargePeriodStart) || !storable(r.ChargePeriodEnd) {
				return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: the charge period %s to %s lies outside the years the usage store keeps (%d to %d, nanosecond timestamps)",
					name, r.Line, r.ChargePeriodStart.Format(time.RFC3339), r.ChargePeriodEnd.Format(time.RFC3339), minYear, maxYear)
			}
			if !sameStart || r.Subscription != subGUID {
				t := r.ChargePeriodStart.UTC()
				k := [2]int{t.Year()*12 + int(t.Month()) - 1, attribution.BucketOf(r.Subscription, s.Buckets)}
				if pw = writers[k]; pw == nil {
					var err error
					if pw, err = open(t.Format("2006-01"), k[1]); err != nil {
						return err
					}
					writers[k], order = pw, append(order, k)
				}
			}
			lastStart, lastEnd = r.ChargePeriodStart, r.ChargePeriodEnd
		}
		if r.Subscription != subGUID || subS == "" {
			subGUID, subS = r.Subscription, r.Subscription.String()
		}
		row := splitRow{start: r.ChargePeriodStart, end: r.ChargePeriodEnd,
			category: intern(r.ChargeCategory, &category, &categoryS), sub: subS, resource: intern(r.ResourceID, &resource, &resourceS),
			service: intern(r.ServiceName, &service, &serviceS), currency: intern(r.BillingCurrency, &currency, &currencyS),
			effective: r.EffectiveCost, billed: r.BilledCost}
		if hasUSD {
			row.usd = r.EffectiveCostInUSD
		}
		pw.part.Rows++
		if pw.batch = append(pw.batch, row); len(pw.batch) == batchRows {
			lanes[pw.lane] <- laneWork{pw, pw.batch}
			pw.batch = make([]splitRow, 0, batchRows)
		}
		return nil
	})
	if err == nil {
		for _, k := range order {
			pw := writers[k]
			if len(pw.batch) > 0 {
				lanes[pw.lane] <- laneWork{pw, pw.batch}
			}
			lanes[pw.lane] <- laneWork{pw: pw} // the end of the part
		}
	}
	for _, l := range lanes {
		close(l)
	}
	wg.Wait()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		// Cancelling first makes Close discard each object written so far
		// (and its temporary file).
		cancel()
		for _, k := range order {
			writers[k].obj.Close()
		}
		return nil, err
	}
	parts := make([]partnerlink.UsagePart, 0, len(order))
	for _, k := range order {
		parts = append(parts, writers[k].part)
	}
	return parts, nil
}

// finish writes a batch of rows, or with none ends the part: the last row
// group, the footer, and the object.
func (pw *partWriter) finish(rows []splitRow, s *Store) error {
	if rows != nil {
		if err := pw.write(rows); err != nil {
			return fmt.Errorf("usage store: write %s: %w", pw.part.Key, exports.RedactError(err))
		}
		return nil
	}
	if err := pw.pq.Close(); err != nil {
		return fmt.Errorf("usage store: write %s: %w", pw.part.Key, exports.RedactError(err))
	}
	if err := pw.obj.Close(); err != nil {
		return s.errorf(err, "write %s", pw.part.Key)
	}
	pw.part.Bytes = pw.n.n
	return nil
}

// Read returns a part's bytes.
func (s *Store) Read(ctx context.Context, key string) ([]byte, error) {
	return s.ReadInto(ctx, key, nil)
}

// OpenPart opens a part to read: on a bucket in a local folder, the part's
// file itself (read where it lies: a close holds no copy of it); on any
// other, the part's bytes in buf's memory, as ReadInto. done lets go of
// the file. The returned buffer is buf, or the one ReadInto made.
func (s *Store) OpenPart(ctx context.Context, key string, buf []byte) (part io.Reader, _ []byte, done func(), err error) {
	var file *os.File
	opts := &blob.ReaderOptions{BeforeRead: func(as func(any) bool) error {
		as(&file) // only a local bucket's reader has one
		return nil
	}}
	r, err := s.bucket.NewReader(ctx, key, opts)
	if err != nil {
		return nil, buf, nil, s.errorf(err, "read %s", key)
	}
	if file != nil {
		return file, buf, func() { r.Close() }, nil
	}
	r.Close()
	if buf, err = s.ReadInto(ctx, key, buf); err != nil {
		return nil, buf, nil, err
	}
	return bytes.NewReader(buf), buf, func() {}, nil
}

// ReadInto returns a part's bytes in buf's memory when it is large enough
// (a close reads part after part into one buffer, rather than allocating
// each part's size, and more while it grows, for the collector to scan).
func (s *Store) ReadInto(ctx context.Context, key string, buf []byte) ([]byte, error) {
	r, err := s.bucket.NewReader(ctx, key, nil)
	if err != nil {
		return nil, s.errorf(err, "read %s", key)
	}
	defer r.Close()
	size := r.Size()
	if int64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return nil, s.errorf(err, "read %s", key)
	}
	// The object must end where its size said it would.
	var one [1]byte
	if n, _ := r.Read(one[:]); n != 0 {
		return nil, s.errorf(errors.New("the object is longer than its size"), "read %s", key)
	}
	return buf, nil
}

func (s *Store) errorf(err error, format string, args ...any) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return partnerlink.Errorf(partnerlink.EINTERNAL, "usage store %s: %s: %s", s.URL, fmt.Sprintf(format, args...), exports.RedactText(err.Error()))
}
