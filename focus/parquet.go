package focus

import (
	"fmt"
	"io"
	"math"
	"math/big"
	"math/bits"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cockroachdb/apd/v3"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/format"
	"github.com/partnerlink/partnerlink"
)

// pqColumn says how to read one of our columns from a Parquet leaf column.
type pqColumn struct {
	leaf     int // leaf column index, -1 when absent
	kind     parquet.Kind
	timeUnit time.Duration // for timestamps stored as integers
	date     bool          // INT32 DATE
	decimal  bool          // integer or byte array DECIMAL with scale
	scale    int32
	maxDef   int // the leaf's maximum definition level: 0 required, 1 optional (fastGroup)
}

func scanParquet(ra io.ReaderAt, size int64, name string, opt Options, fn RowFunc) error {
	// A Parquet file ends with its footer and the magic "PAR1": without
	// them the file was cut short (docs/rules.md, "Usage input").
	var tail [4]byte
	if size < 12 {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the Parquet file ends early: it has %d bytes, too few for a Parquet footer (the file is truncated or was not completely written)", name, size)
	}
	if _, err := ra.ReadAt(tail[:], size-4); err != nil {
		return fmt.Errorf("read %s: %w", name, err)
	}
	if string(tail[:]) != "PAR1" {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: the Parquet file ends early: it does not end with a Parquet footer (the file is truncated or was not completely written); a truncated file is refused whole, never read as a shorter one", name)
	}
	f, err := openParquet(ra, size)
	if err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "%s: not a readable Parquet file: %v", name, err)
	}
	schema := f.Schema()
	paths := schema.Columns()
	header := make([]string, len(paths))
	for i, p := range paths {
		header[i] = strings.Join(p, ".")
	}
	if err := repeatedColumn(name, header); err != nil && !opt.Stored {
		return err
	}
	idx := columnIndex(header)
	if err := checkColumns(name, idx); err != nil {
		return err
	}
	var cols [nColumns]pqColumn
	for c := range cols {
		cols[c].leaf = idx[c]
		if idx[c] < 0 {
			continue
		}
		leaf, ok := schema.Lookup(paths[idx[c]]...)
		if !ok {
			return fmt.Errorf("%s: column %s not found in schema", name, header[idx[c]])
		}
		if leaf.MaxRepetitionLevel > 0 {
			return partnerlink.Errorf(partnerlink.EINVALID, "%s: column %s is repeated; expected one value per row", name, header[idx[c]])
		}
		cols[c] = describeColumn(idx[c], leaf.Node.Type())
		cols[c].maxDef = leaf.MaxDefinitionLevel
	}
	if err := checkCodecs(name, f.Metadata(), cols, header); err != nil {
		return err
	}

	groups := f.RowGroups()
	offsets := make([]int64, len(groups))
	var n int64
	for i, g := range groups {
		offsets[i] = n
		n += g.NumRows()
	}
	workers := max(opt.Workers, 1)
	spans := groupSpans(groups, cols, workers)
	next := make(chan groupSpan, len(spans))
	for _, s := range spans {
		next <- s
	}
	close(next)
	var errs firstError
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			p := parsers.Get().(*pqParser)
			defer func() {
				p.keep = nil // it holds its run: a pooled parser must not keep it alive
				parsers.Put(p)
			}()
			p.name, p.cols, p.colOf, p.keep, p.stored = name, cols, make([]int8, len(paths)), opt.Keep, opt.Stored
			for i := range p.colOf {
				p.colOf[i] = -1
			}
			for c := range cols {
				if cols[c].leaf >= 0 {
					p.colOf[cols[c].leaf] = int8(c)
				}
			}
			group := p.group
			if p.columnWise() {
				group = p.fastGroup
			}
			for s := range next {
				if line, err := p.readGroup(group, w, groups[s.group], offsets[s.group], s.from, s.to, fn); err != nil {
					errs.set(line, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	return errs.get()
}

// checkCodecs refuses a file whose columns read are compressed with a codec
// the Parquet library does not decompress (the deprecated Hadoop-framed
// LZ4, LZO), with what would be read, rather than as a damaged file at its
// first page (docs/rules.md, "Usage input").
func checkCodecs(name string, md *format.FileMetaData, cols [nColumns]pqColumn, header []string) error {
	for _, rg := range md.RowGroups {
		for c := range cols {
			if l := cols[c].leaf; l >= 0 && l < len(rg.Columns) {
				switch codec := rg.Columns[l].MetaData.Codec; codec {
				case format.Uncompressed, format.Snappy, format.Gzip, format.Brotli, format.Zstd, format.Lz4Raw:
				default:
					return partnerlink.Errorf(partnerlink.EINVALID, "%s: column %s is compressed with %s, which is not read; expected Parquet pages uncompressed or compressed with SNAPPY, GZIP, BROTLI, ZSTD or LZ4_RAW (write the file again with one of them)", name, header[l], codec)
				}
			}
		}
	}
	return nil
}

// groupSpan is the rows [from, to) of a row group, which one worker
// reads.
type groupSpan struct{ group, from, to int }

// groupSpans cuts the file's row groups into the spans the workers take.
// A file of fewer row groups than twice the workers (a large file as
// parquet-mr or an older Arrow writes it, in row groups of millions of
// rows) has its large row groups cut, so that every worker has rows to
// read; only where each column chunk read has an offset index, so a
// worker seeks to its first row's page instead of decoding the pages
// before it (docs/performance.md, "Parquet as other writers make it").
func groupSpans(groups []parquet.RowGroup, cols [nColumns]pqColumn, workers int) []groupSpan {
	cut := len(groups) < 2*workers && flatColumns(cols)
	var spans []groupSpan
	for g, rg := range groups {
		n, parts := int(rg.NumRows()), 1
		if cut && offsetIndexed(rg, cols) {
			parts = max(1, min((2*workers+len(groups)-1)/len(groups), n/minSpanRows))
		}
		for k := range parts {
			spans = append(spans, groupSpan{g, n * k / parts, n * (k + 1) / parts})
		}
	}
	return spans
}

// minSpanRows is the fewest rows groupSpans cuts a row group into.
const minSpanRows = 4 * batchRows

// offsetIndexed reports whether every column chunk read in the row group
// has an offset index.
func offsetIndexed(rg parquet.RowGroup, cols [nColumns]pqColumn) bool {
	chunks := rg.ColumnChunks()
	for c := range cols {
		if cols[c].leaf < 0 {
			continue
		}
		if ix, err := chunks[cols[c].leaf].OffsetIndex(); err != nil || ix == nil || ix.NumPages() == 0 {
			return false
		}
	}
	return true
}

// openParquet opens a Parquet file, with an error where the library
// panics on a damaged one.
func openParquet(ra io.ReaderAt, size int64) (f *parquet.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("%v", r)
		}
	}()
	return parquet.OpenFile(ra, size)
}

// readGroup reads a row group with group (p.group or p.fastGroup). A
// damaged file can make the Parquet library panic as it decodes a page:
// that is an error of the file, found in the row group from offset+1 on,
// not a crash of the server that reads it. A panic of fn is not the
// file's, and goes on.
func (p *pqParser) readGroup(group groupReader, w int, g parquet.RowGroup, offset int64, from, to int, fn RowFunc) (line int64, err error) {
	p.inFn = false
	defer func() {
		if r := recover(); r != nil {
			if p.inFn {
				panic(r)
			}
			line = offset + int64(from) + 1
			err = p.damaged(line, fmt.Errorf("%v", r))
		}
	}()
	return group(w, g, offset, from, to, fn)
}

// groupReader reads the rows [from, to) of a row group whose first row is
// the file's row offset+1 (pqParser.group, pqParser.fastGroup).
type groupReader func(w int, g parquet.RowGroup, offset int64, from, to int, fn RowFunc) (int64, error)

func describeColumn(leaf int, t parquet.Type) pqColumn {
	c := pqColumn{leaf: leaf, kind: t.Kind()}
	if lt := t.LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			if v.Unit.Value != nil {
				c.timeUnit = v.Unit.Value.Duration()
			}
		case *format.DateType:
			c.date = true
		case *format.DecimalType:
			c.decimal, c.scale = true, v.Scale
		}
	}
	if ct := t.ConvertedType(); ct != nil && c.timeUnit == 0 {
		switch *ct {
		case deprecated.TimestampMillis:
			c.timeUnit = time.Millisecond
		case deprecated.TimestampMicros:
			c.timeUnit = time.Microsecond
		}
	}
	return c
}

// parsers keep their column buffers from one file to the next: a close
// reads hundreds of parts, and each part's buffers made anew added up to
// more memory allocated than the parts themselves.
var parsers = sync.Pool{New: func() any { return new(pqParser) }}

type pqParser struct {
	name  string
	cols  [nColumns]pqColumn
	colOf []int8 // leaf column index → our column, -1 for columns we ignore
	row   Row
	vals  [nColumns]parquet.Value
	text  []byte // a float's shortest decimal text
	buf   []parquet.Row
	subs  subCheck
	// columns holds a row group's values column by column (fastGroup), and
	// the caches of direct.
	columns              [nColumns]column
	subGUIDs             []subGUID
	startCache, endCache instant
	dictGen              uint64 // the row group's number (Row.ResourceRef)
	texts                [nColumns]timeCache
	keep                 func(worker int, sub GUID) bool // Options.Keep (fastGroup)
	stored               bool                            // Options.Stored
	inFn                 bool                            // the RowFunc runs (readGroup)
}

// group reads the rows [from, to) of a row group row by row (fastGroup
// hands over the rows it cannot read column by column).
func (p *pqParser) group(w int, g parquet.RowGroup, offset int64, from, to int, fn RowFunc) (int64, error) {
	rows := g.Rows()
	defer rows.Close()
	if p.buf == nil {
		p.buf = make([]parquet.Row, 256)
	}
	at := offset + int64(from)
	if from > 0 {
		if err := rows.SeekToRow(int64(from)); err != nil {
			return at + 1, p.damaged(at+1, err)
		}
	}
	for end := offset + int64(to); at < end; {
		n, err := rows.ReadRows(p.buf[:min(int64(len(p.buf)), end-at)])
		for i := 0; i < n; i++ {
			at++
			if err := p.fill(at, p.buf[i]); err != nil {
				return at, err
			}
			p.inFn = true
			err := fn(w, &p.row)
			p.inFn = false
			if err != nil {
				return at, err
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return at + 1, p.damaged(at+1, err)
		}
	}
	return 0, nil
}

// damaged is the error of a row group whose data cannot be read from
// row line on.
func (p *pqParser) damaged(line int64, err error) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "%s row %d: the Parquet data cannot be read (%v); the file is damaged or truncated and is refused whole", p.name, line, err)
}

func (p *pqParser) bad(line int64, col string, v string, want string) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "%s row %d: %s %s is not valid: expected %s", p.name, line, col, v, want)
}

func (p *pqParser) fill(line int64, row parquet.Row) error {
	for c := range p.vals {
		p.vals[c] = parquet.Value{}
	}
	for _, v := range row {
		if col := v.Column(); col >= 0 && col < len(p.colOf) && p.colOf[col] >= 0 {
			p.vals[p.colOf[col]] = v
		}
	}
	return p.parse(line)
}

// parse makes p.row of the values in p.vals, checking each as the CSV
// reader does.
func (p *pqParser) parse(line int64) error {
	r := &p.row
	r.Line, r.ResourceRef = line, 0
	var ok bool
	if r.ChargePeriodStart, ok = p.time(iStart); !ok {
		return p.bad(line, ColChargePeriodStart, p.show(iStart), wantTime)
	}
	if r.ChargePeriodEnd, ok = p.time(iEnd); !ok {
		return p.bad(line, ColChargePeriodEnd, p.show(iEnd), wantTime)
	}
	if !r.ChargePeriodEnd.After(r.ChargePeriodStart) {
		return p.bad(line, ColChargePeriodEnd, p.show(iEnd), "an instant after ChargePeriodStart")
	}
	r.ChargeCategory = p.bytes(iCategory)
	r.ResourceID = p.bytes(iResource)
	if r.Subscription, ok = parseSubAccount(p.bytes(iSubAccount)); !ok {
		return p.bad(line, ColSubAccountID, p.show(iSubAccount), "a subscription as /subscriptions/{guid} or a bare GUID")
	}
	if seg, ok := p.subs.check(r.ResourceID, r.Subscription); !ok {
		return subMismatch(fmt.Sprintf("%s row %d", p.name, line), r.ResourceID, seg, p.bytes(iSubAccount))
	}
	r.ServiceName = p.bytes(iService)
	if r.BillingCurrency = p.bytes(iCurrency); !p.stored && !validCurrency(r.BillingCurrency) {
		return p.bad(line, ColBillingCurrency, p.show(iCurrency), wantCurrency)
	}
	if !p.amount(iEffective, &r.EffectiveCost) {
		return p.bad(line, ColEffectiveCost, p.show(iEffective), wantAmount)
	}
	if !p.amount(iBilled, &r.BilledCost) {
		return p.bad(line, ColBilledCost, p.show(iBilled), wantAmount)
	}
	r.HasEffectiveCostInUSD = p.cols[iUSD].leaf >= 0
	if r.HasEffectiveCostInUSD && !p.amount(iUSD, &r.EffectiveCostInUSD) {
		return p.bad(line, ColEffectiveCostInUSD, p.show(iUSD), wantAmount)
	}
	return nil
}

func (p *pqParser) show(c int) string {
	v := p.vals[c]
	if v.IsNull() {
		return "null"
	}
	if k := v.Kind(); (c == iStart || c == iEnd) && k != parquet.ByteArray && k != parquet.FixedLenByteArray {
		// A timestamp that reads is shown as the instant, not as the
		// number of units since 1970 it is stored as.
		if t, ok := p.time(c); ok {
			return strconv.Quote(t.Format(time.RFC3339Nano))
		}
	}
	return strconv.Quote(v.String())
}

func (p *pqParser) bytes(c int) []byte {
	v := p.vals[c]
	if v.IsNull() {
		return nil
	}
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return v.ByteArray()
	}
	p.text = append(p.text[:0], v.String()...)
	return p.text
}

func (p *pqParser) time(c int) (time.Time, bool) {
	v := p.vals[c]
	col := p.cols[c]
	if v.IsNull() {
		return time.Time{}, false
	}
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		return parseTime(v.ByteArray())
	case parquet.Int64:
		if col.timeUnit == 0 {
			return time.Time{}, false
		}
		return time.Unix(0, 0).Add(time.Duration(v.Int64()) * col.timeUnit).UTC(), true
	case parquet.Int32:
		if !col.date {
			return time.Time{}, false
		}
		return time.Unix(int64(v.Int32())*86400, 0).UTC(), true
	case parquet.Int96:
		return int96Time(v.Int96()), true
	}
	return time.Time{}, false
}

// int96Time reads a legacy Impala timestamp (Spark's default for years):
// nanoseconds of the day, then the Julian day number.
func int96Time(i96 deprecated.Int96) time.Time {
	nanos := int64(i96[1])<<32 | int64(i96[0])
	days := int64(i96[2]) - 2440588
	return time.Unix(days*86400, nanos).UTC()
}

func (p *pqParser) amount(c int, a *Amount) bool {
	v := p.vals[c]
	col := p.cols[c]
	if v.IsNull() {
		return false
	}
	switch v.Kind() {
	case parquet.ByteArray, parquet.FixedLenByteArray:
		if col.decimal {
			return setBigEndianDecimal(a, v.ByteArray(), col.scale)
		}
		return a.parse(v.ByteArray()) == nil
	case parquet.Int32, parquet.Int64:
		n := v.Int64()
		if v.Kind() == parquet.Int32 {
			n = int64(v.Int32())
		}
		scale := int32(0)
		if col.decimal {
			scale = col.scale
		}
		if scale >= 0 && scale <= maxScale && n > -int64(pow10[18]) && n < int64(pow10[18]) {
			*a = Amount{coef: n, scale: scale}
			return true
		}
		return a.setBig(apd.New(n, -scale))
	case parquet.Double:
		return p.floatAmount(a, v.Double(), 64)
	case parquet.Float:
		return p.floatAmount(a, float64(v.Float()), 32)
	}
	return false
}

// floatAmount reads a binary float of the file (bits 32 or 64) as the
// shortest decimal that reads back as the same float, which is what the
// writer meant.
func (p *pqParser) floatAmount(a *Amount, f float64, bits int) bool {
	if bits == 64 && shortestDecimal(a, f) {
		return true
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return false
	}
	p.text = strconv.AppendFloat(p.text[:0], f, 'g', -1, bits)
	return a.parse(p.text) == nil
}

// shortestDecimal sets a to what floatAmount makes of the float64 f
// through its text, without the text, for the floats costs are
// (1e-4 ≤ |f| < 1e6, or 0), and reports whether it did: the fewest
// decimals k for which f·10^k rounds to an integer n with n / 10^k == f.
// While |f·10^k| < 2^50, the product's rounding cannot move the nearest
// integer, and no other number of k decimals reads back as f (they are
// further apart than f's rounding interval is wide), so n is the one
// strconv's shortest formatting writes (TestShortestDecimalIsStrconvs).
func shortestDecimal(a *Amount, f float64) bool {
	if f == 0 {
		*a = Amount{}
		return true
	}
	if af := math.Abs(f); af < 1e-4 || af >= 1e6 {
		return false
	}
	for k := range 17 {
		p := float64(pow10[k]) // exact: every power of ten up to 10^22 is a float64
		x := f * p
		if math.Abs(x) >= 1<<50 {
			return false
		}
		if n := math.Round(x); n/p == f {
			*a = Amount{coef: int64(n), scale: int32(k)}
			return true
		}
	}
	return false
}

// setBigEndianDecimal reads a DECIMAL stored as a big-endian two's
// complement integer.
func setBigEndianDecimal(a *Amount, b []byte, scale int32) bool {
	if len(b) == 0 {
		return false
	}
	if n, s, ok := smallDecimal(b, scale); ok {
		*a = Amount{coef: n, scale: s}
		return true
	}
	v := new(big.Int).SetBytes(b)
	if b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(len(b)*8)))
	}
	var c apd.BigInt
	c.SetMathBigInt(v)
	return a.setBig(apd.NewWithBigInt(&c, -scale))
}

// smallDecimal reads a DECIMAL of at most 16 bytes (big-endian two's
// complement) on Amount's fast path, dropping trailing decimal zeros
// until it fits: a DECIMAL(38,18) cost such as 12.345678 is stored as
// 12345678000000000000, beyond int64, and is 12345678 × 10^-6. It reports
// false when the value does not fit that way (setBigEndianDecimal then
// reads it as a big decimal).
func smallDecimal(b []byte, scale int32) (int64, int32, bool) {
	if len(b) > 16 || scale < 0 {
		return 0, 0, false
	}
	var hi, lo uint64
	if b[0]&0x80 != 0 {
		hi, lo = ^uint64(0), ^uint64(0) // the sign, extended
	}
	for _, c := range b {
		hi, lo = hi<<8|lo>>56, lo<<8|uint64(c)
	}
	neg := int64(hi) < 0
	if neg {
		hi, lo = ^hi, ^lo+1
		if lo == 0 {
			hi++
		}
	}
	for hi != 0 || lo >= pow10[18] || scale > maxScale {
		if scale == 0 {
			return 0, 0, false
		}
		qhi, r := hi/10, hi%10
		qlo, rem := bits.Div64(r, lo, 10)
		if rem != 0 {
			return 0, 0, false
		}
		hi, lo, scale = qhi, qlo, scale-1
	}
	n := int64(lo)
	if neg {
		n = -n
	}
	return n, scale, true
}
