package focus

import (
	"bufio"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/partnerlink/partnerlink"
)

// Options tune a scan.
type Options struct {
	// Workers is how many goroutines call the row function at once; less
	// than 1 means 1. Rows handed to one worker come in file order.
	Workers int
	// ChunkSize is how many bytes of CSV each worker takes at a time
	// (default 1 MiB: a buffer that stays in the CPU caches between the read
	// and the parse; 4 MiB ones made reading a third slower). Tests make it
	// small to exercise chunk boundaries.
	ChunkSize int
	// Keep, when set, is asked about each row's subscription once its
	// SubAccountId is read: a row it refuses is skipped, its other fields
	// neither read nor checked (a run read in parts). A Parquet file's
	// pages are decoded all the same, and only in column-wise row groups
	// are rows skipped. worker is as for RowFunc.
	Keep func(worker int, sub GUID) bool
	// Stored: the file is one an import accepted (docs/rules.md#usage-input):
	// the checks of its form that imports have made since 2026-12-05 (a
	// column used given twice, BillingCurrency's form) are not made again,
	// so that a month whose files were imported before still closes.
	Stored bool
}

// RowFunc receives each row. worker (0 ≤ worker < Workers) identifies the
// goroutine calling it, so callers can keep per-worker state without locks.
// The row and its byte slices are valid only during the call. An error
// stops the scan.
type RowFunc func(worker int, row *Row) error

const (
	defaultChunk = 1 << 20
)

// maxRecord bounds how far a chunk grows to hold one CSV record, so that a
// stray quote cannot make the reader hold a whole file in memory. A
// variable so that tests can make it small.
var maxRecord = 64 << 20

// ScanFile opens path and scans it (see Scan).
func ScanFile(path string, opt Options, fn RowFunc) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("open usage file: %w", err)
	}
	defer f.Close()
	return Scan(f, path, opt, fn)
}

// Scan reads a FOCUS file from r: Parquet when it starts with "PAR1",
// gzip-compressed CSV when it starts with the gzip magic bytes, CSV
// otherwise (a UTF-8 byte order mark is skipped). name is used in errors.
// A Parquet file is read through r's io.ReaderAt when r has one (an
// *os.File, a bytes.Reader), and from memory otherwise.
//
// Errors name the file, and for a bad row its line and field and what is
// accepted. When several rows are bad, the error is the first in the file,
// whatever the number of workers.
func Scan(r io.Reader, name string, opt Options, fn RowFunc) error {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.Equal(magic, []byte("PAR1")):
		if f, ok := r.(*os.File); ok {
			st, err := f.Stat()
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			return scanParquet(f, st.Size(), name, opt, fn)
		}
		// A reader over bytes already in memory (a part of the usage
		// store) is read in place, not copied.
		if m, ok := r.(interface {
			io.ReaderAt
			Size() int64
		}); ok {
			return scanParquet(m, m.Size(), name, opt, fn)
		}
		data, err := io.ReadAll(br)
		if err != nil {
			return fmt.Errorf("read %s: %w", name, err)
		}
		return scanParquet(bytes.NewReader(data), int64(len(data)), name, opt, fn)
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		gz, err := gzip.NewReader(br)
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return readError(name, io.ErrUnexpectedEOF) // cut inside the gzip header
		}
		if err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: not a readable gzip file: %v", name, err)
		}
		defer gz.Close()
		return scanCSV(bufio.NewReaderSize(gz, 64<<10), name, opt, fn)
	}
	return scanCSV(br, name, opt, fn)
}

// readError words an error from reading the bytes of a file. A compressed
// stream that ends early or is corrupt is the input's fault (EINVALID): the
// file is refused whole, never read as a shorter file (docs/rules.md,
// "Usage input").
func readError(name string, err error) error {
	var corrupt flate.CorruptInputError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the file ends early: its gzip stream is cut short (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one", name)
	case errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader), errors.As(err, &corrupt):
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the gzip stream is corrupt (%v); the file is refused whole", name, err)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// rowError is an error at a place in the file, so the first one can be
// chosen among workers.
type rowError struct {
	line int64
	err  error
}

// firstError keeps the error with the smallest line.
type firstError struct {
	mu  sync.Mutex
	err *rowError
}

func (f *firstError) set(line int64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err == nil || line < f.err.line {
		f.err = &rowError{line, err}
	}
}

func (f *firstError) get() error {
	if f.err == nil {
		return nil
	}
	return f.err.err
}

// chunker cuts a CSV stream into buffers of whole records.
type chunker struct {
	r     io.Reader
	carry []byte
	eof   bool
	line  int64 // line number of the next chunk's first line
	size  int
}

// next fills buf (reusing its capacity) with whole records. It returns
// io.EOF when the input is exhausted.
func (c *chunker) next(buf []byte) ([]byte, int64, error) {
	if c.eof && len(c.carry) == 0 {
		return nil, 0, io.EOF
	}
	if cap(buf) < c.size {
		buf = make([]byte, 0, c.size)
	}
	buf = append(buf[:0], c.carry...)
	for {
		// Fill the buffer. Only io.EOF ends the input: a gzip stream that
		// is cut short reports io.ErrUnexpectedEOF, which is an error, not
		// the end of a shorter file (docs/rules.md, "Usage input").
		for !c.eof && len(buf) < cap(buf) {
			n, err := c.r.Read(buf[len(buf):cap(buf)])
			buf = buf[:len(buf)+n]
			if err == io.EOF {
				c.eof = true
			} else if err != nil {
				return nil, 0, err
			}
		}
		b := recordBoundary(buf)
		if b < 0 && (c.eof || len(buf) >= maxRecord) {
			// No newline outside quotes: the last record of the input, or
			// a stray quote (a valid record of 64 MiB is not plausible).
			// The parser then reports the bad record and its line.
			b = len(buf)
		}
		if b >= 0 {
			c.carry = append(c.carry[:0], buf[b:]...)
			first := c.line
			c.line += int64(bytes.Count(buf[:b], []byte{'\n'}))
			return buf[:b], first, nil
		}
		// No whole record yet: a record longer than the buffer.
		bigger := make([]byte, len(buf), 2*cap(buf))
		copy(bigger, buf)
		buf = bigger
	}
}

type chunk struct {
	data  []byte
	first int64
}

func scanCSV(r io.Reader, name string, opt Options, fn RowFunc) error {
	workers := max(opt.Workers, 1)
	size := opt.ChunkSize
	if size <= 0 {
		size = defaultChunk
	}
	c := &chunker{r: r, line: 1, size: size}
	first, firstLine, err := c.next(nil)
	if err == io.EOF {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the file is empty; expected a FOCUS CSV header line", name)
	}
	if err != nil {
		return readError(name, err)
	}
	first = bytes.TrimPrefix(first, []byte("\xef\xbb\xbf"))
	// The header: the first non-blank record.
	var sp splitter
	pos, line := 0, firstLine
	var header []string
	for pos < len(first) {
		fields, end, lines, ok, _, err := sp.next(first, pos)
		if err != nil {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: header: %v", name, line, err)
		}
		pos, line = end, line+int64(lines)
		if ok {
			for _, f := range fields {
				header = append(header, string(f))
			}
			break
		}
	}
	if header == nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the file is empty or has no header line; expected FOCUS columns such as %s", name, strings.Join(requiredColumns, ","))
	}
	if err := repeatedColumn(name, header); err != nil && !opt.Stored {
		return err
	}
	idx := columnIndex(header)
	if err := checkColumns(name, idx); err != nil {
		return err
	}

	var errs firstError
	var stop atomic.Bool
	chunks := make(chan chunk, workers)
	// A fixed set of buffers goes round: one being filled, one queued per
	// worker, one being parsed per worker. Reading into a fresh buffer
	// every time made the kernel fault in new pages on every read (a
	// third of the scan's time went to read system calls).
	free := make(chan []byte, 2*workers+1)
	for range 2*workers + 1 {
		free <- make([]byte, 0, size)
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := rowParser{name: name, idx: idx, nfields: len(header), keep: opt.Keep, stored: opt.Stored}
			for ch := range chunks {
				if line, err := p.chunk(w, ch, fn); err != nil {
					errs.set(line, err)
					stop.Store(true)
				}
				free <- ch.data[:0]
			}
		}(w)
	}
	// The rest of the first chunk, then the others. The first chunk's
	// buffer joins the round when its worker is done with it.
	<-free
	chunks <- chunk{data: first[pos:], first: line}
	for !stop.Load() {
		data, at, err := c.next(<-free)
		if err == io.EOF {
			break
		}
		if err != nil {
			errs.set(c.line, readError(name, err))
			break
		}
		chunks <- chunk{data: data, first: at}
	}
	close(chunks)
	wg.Wait()
	if err := errs.get(); err != nil {
		if partnerlink.ErrorCode(err) == partnerlink.EINVALID {
			// Keep the message; the chunker's own errors lack the name.
			if msg := partnerlink.ErrorMessage(err); !strings.HasPrefix(msg, name) {
				return partnerlink.Errorf(partnerlink.EINVALID, "%s %s", name, msg)
			}
		}
		return err
	}
	return nil
}

func checkColumns(name string, idx [nColumns]int) error {
	var missing []string
	for c, col := range requiredColumns {
		if idx[c] < 0 {
			missing = append(missing, col)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return partnerlink.Errorf(partnerlink.EINVALID, "%s: missing column %s; a FOCUS 1.0 usage file needs the columns %s (any order, other columns ignored)",
		name, strings.Join(missing, ", "), strings.Join(requiredColumns, ", "))
}

// rowParser turns records into Rows for one worker.
type rowParser struct {
	stored  bool // Options.Stored
	name    string
	idx     [nColumns]int
	nfields int
	sp      splitter
	row     Row
	start   timeCache
	end     timeCache
	subText subTexts
	subs    subCheck
	keep    func(worker int, sub GUID) bool // Options.Keep
}

func (p *rowParser) chunk(w int, ch chunk, fn RowFunc) (int64, error) {
	data := ch.data
	line := ch.first
	for pos := 0; pos < len(data); {
		fields, end, lines, ok, errLines, err := p.sp.next(data, pos)
		if err != nil {
			return line, partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: %v", p.name, line+int64(errLines), err)
		}
		at := line
		pos, line = end, line+int64(lines)
		if !ok {
			continue
		}
		if len(fields) != p.nfields {
			return at, partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: the row has %d fields; the header has %d", p.name, at, len(fields), p.nfields)
		}
		if p.keep != nil {
			// A subscription that does not read goes on to fill, which
			// words the error.
			if sub, ok := p.subText.parse(fields[p.idx[iSubAccount]]); ok && !p.keep(w, sub) {
				continue
			}
		}
		if err := p.fill(at, fields); err != nil {
			return at, err
		}
		if err := fn(w, &p.row); err != nil {
			return at, err
		}
	}
	return 0, nil
}

func (p *rowParser) bad(line int64, col string, v []byte, want string) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "%s line %d: %s %q is not valid: expected %s", p.name, line, col, v, want)
}

const wantTime = "an RFC 3339 instant such as 2026-03-01T00:00:00Z (or a date such as 2026-03-01)"

// wantCurrency is what BillingCurrency holds (validCurrency).
const wantCurrency = "an ISO 4217 currency code: three capital letters such as EUR or USD"

// validCurrency reports whether b is an ISO 4217 code in form: three
// capital letters (FOCUS 1.0's BillingCurrency). Another spelling would
// be summed as a currency of its own.
func validCurrency(b []byte) bool {
	return len(b) == 3 && 'A' <= b[0] && b[0] <= 'Z' && 'A' <= b[1] && b[1] <= 'Z' && 'A' <= b[2] && b[2] <= 'Z'
}

func (p *rowParser) fill(line int64, f [][]byte) error {
	r := &p.row
	r.Line = line
	var ok bool
	v := f[p.idx[iStart]]
	if r.ChargePeriodStart, ok = p.start.parse(v); !ok {
		return p.bad(line, ColChargePeriodStart, v, wantTime)
	}
	v = f[p.idx[iEnd]]
	if r.ChargePeriodEnd, ok = p.end.parse(v); !ok {
		return p.bad(line, ColChargePeriodEnd, v, wantTime)
	}
	if !r.ChargePeriodEnd.After(r.ChargePeriodStart) {
		return p.bad(line, ColChargePeriodEnd, v, "an instant after ChargePeriodStart")
	}
	r.ChargeCategory = f[p.idx[iCategory]]
	r.ResourceID = f[p.idx[iResource]]
	v = f[p.idx[iSubAccount]]
	if r.Subscription, ok = p.subText.parse(v); !ok {
		return p.bad(line, ColSubAccountID, v, "a subscription as /subscriptions/{guid} or a bare GUID")
	}
	if seg, ok := p.subs.check(r.ResourceID, r.Subscription); !ok {
		return subMismatch(fmt.Sprintf("%s line %d", p.name, line), r.ResourceID, seg, v)
	}
	r.ServiceName = f[p.idx[iService]]
	if r.BillingCurrency = f[p.idx[iCurrency]]; !p.stored && !validCurrency(r.BillingCurrency) {
		return p.bad(line, ColBillingCurrency, r.BillingCurrency, wantCurrency)
	}
	if v = f[p.idx[iEffective]]; r.EffectiveCost.parse(v) != nil {
		return p.bad(line, ColEffectiveCost, v, wantAmount)
	}
	if v = f[p.idx[iBilled]]; r.BilledCost.parse(v) != nil {
		return p.bad(line, ColBilledCost, v, wantAmount)
	}
	if i := p.idx[iUSD]; i >= 0 {
		r.HasEffectiveCostInUSD = true
		if v = f[i]; r.EffectiveCostInUSD.parse(v) != nil {
			return p.bad(line, ColEffectiveCostInUSD, v, wantAmount)
		}
	}
	return nil
}
