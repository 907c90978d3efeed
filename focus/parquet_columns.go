package focus

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/partnerlink/partnerlink"
)

// Reading a row group column by column (docs/performance.md): when every
// column attribution reads is flat (required, or optional at the top
// level), each column's pages are decoded into plain arrays — integers,
// floats, or one byte buffer with offsets; dictionary pages into indexes
// over the dictionary's bytes, copied once per dictionary — and a row's
// values are made from them as the row is checked (pqParser.parse), so the
// row group holds no per-value pointers for the garbage collector to chase.
// The columns the engine does not read are never decoded. Files with nested
// columns are read row by row.

// columnWise reports whether every column read can be read page by page.
func (p *pqParser) columnWise() bool {
	if noColumnWise {
		return false
	}
	for c := range p.cols {
		if col := &p.cols[c]; col.leaf >= 0 && col.maxDef > 1 {
			return false
		}
	}
	return true
}

// noColumnWise turns the column-wise reader off (tests compare the two).
var noColumnWise = false

// column is one column chunk's values, row by row.
type column struct {
	kind encoding.Kind
	rows int
	null []bool // per row once a page had definition levels; else empty

	ints   []int64   // Int32 and Int64
	floats []float64 // Float and Double
	int96s []deprecated.Int96
	// Byte arrays: row i's bytes are vals[i], in the memory of the pages
	// kept (nil for a null); with a dictionary, dict[dictOffs[idx[i]]:…].
	vals [][]byte
	kept []parquet.Page
	// Fixed-length byte arrays: row i's are bytes[offs[i]:offs[i]+size].
	bytes    []byte
	offs     []uint32
	dict     []byte
	dictOffs []uint32
	idx      []int32
	isDict   bool // byte arrays kept as idx over dict
	size     int  // FixedLenByteArray: each value's size in bytes
	// A dictionary of numbers, expanded into ints, floats or int96s.
	dictInts   []int64
	dictFloats []float64
	dictInt96  []deprecated.Int96
}

// errNotColumnWise sends a row group to the row-by-row reader.
var errNotColumnWise = errors.New("read row by row")

func (c *column) reset() {
	c.release()
	c.kind, c.rows, c.null = encoding.Undefined, 0, c.null[:0]
	c.ints, c.floats, c.int96s = c.ints[:0], c.floats[:0], c.int96s[:0]
	c.bytes, c.offs, c.dict, c.dictOffs, c.idx, c.isDict, c.size = c.bytes[:0], c.offs[:0], c.dict[:0], c.dictOffs[:0], c.idx[:0], false, 0
}

// release gives back the pages the column's values were in.
func (c *column) release() {
	for _, pg := range c.kept {
		parquet.Release(pg)
	}
	clear(c.kept)
	clear(c.vals)
	c.kept, c.vals = c.kept[:0], c.vals[:0]
}

// value is row i's value, over the column's memory (valid until reset).
func (c *column) value(i int) parquet.Value {
	if len(c.null) > 0 && c.null[i] {
		return parquet.Value{}
	}
	switch c.kind {
	case encoding.Int32:
		return parquet.Int32Value(int32(c.ints[i]))
	case encoding.Int64:
		return parquet.Int64Value(c.ints[i])
	case encoding.Float:
		return parquet.FloatValue(float32(c.floats[i]))
	case encoding.Double:
		return parquet.DoubleValue(c.floats[i])
	case encoding.Int96:
		return parquet.Int96Value(c.int96s[i])
	case encoding.ByteArray:
		if c.isDict {
			k := c.idx[i]
			return parquet.ByteArrayValue(c.dict[c.dictOffs[k]:c.dictOffs[k+1]:c.dictOffs[k+1]])
		}
		return parquet.ByteArrayValue(c.vals[i])
	case encoding.FixedLenByteArray:
		if c.isDict {
			k := int(c.idx[i])
			return parquet.FixedLenByteArrayValue(c.dict[k*c.size : (k+1)*c.size : (k+1)*c.size])
		}
		j := int(c.offs[i])
		return parquet.FixedLenByteArrayValue(c.bytes[j : j+c.size : j+c.size])
	}
	return parquet.Value{}
}

// fastGroup is group, column by column.
func (p *pqParser) fastGroup(w int, g parquet.RowGroup, offset int64, fn RowFunc) (int64, error) {
	defer func() {
		for c := range p.columns {
			p.columns[c].release() // the pages, back to parquet-go's pools
		}
	}()
	n := int(g.NumRows())
	chunks := g.ColumnChunks()
	for c := range p.cols {
		if p.cols[c].leaf < 0 {
			continue
		}
		col := &p.columns[c]
		err := col.read(chunks[p.cols[c].leaf], p.cols[c].maxDef)
		if err == errNotColumnWise {
			return p.group(w, g, offset, fn)
		}
		if err != nil || col.rows != n {
			if err == nil {
				err = fmt.Errorf("column %d has %d values for %d rows", c, col.rows, n)
			}
			return offset + 1, partnerlink.Errorf(partnerlink.EINVALID, "%s row %d: the Parquet data cannot be read (%v); the file is damaged or truncated and is refused whole", p.name, offset+1, err)
		}
	}
	direct := p.directKinds()
	// The caches hold for one row group (its dictionary, its time unit).
	p.subGUIDs, p.startCache, p.endCache = p.subGUIDs[:0], instant{}, instant{}
	p.dictGen = uint64(dictGens.Add(1))
	for i := range n {
		line := offset + int64(i) + 1
		if p.keep != nil && p.columns[iSubAccount].kind == encoding.ByteArray {
			// A subscription that does not read goes on to be refused. (A
			// fixed-length column's rows are all made: the run skips them.)
			if sub, ok := p.subAt(i); ok && !p.keep(w, sub) {
				continue
			}
		}
		if !direct || !p.direct(i, line) {
			// The general reader decides: it makes the row, or words why
			// the row is refused.
			for c := range p.vals {
				if p.cols[c].leaf < 0 {
					p.vals[c] = parquet.Value{}
				} else {
					p.vals[c] = p.columns[c].value(i)
				}
			}
			if err := p.parse(line); err != nil {
				return line, err
			}
		}
		if err := fn(w, &p.row); err != nil {
			return line, err
		}
	}
	return 0, nil
}

// directKinds reports whether the row group's columns have the kinds
// direct reads: timestamps as integers or text, text columns as byte
// arrays, amounts as integer decimals or text.
func (p *pqParser) directKinds() bool {
	for c := range p.cols {
		col, data := &p.cols[c], &p.columns[c]
		if col.leaf < 0 {
			if c == iUSD {
				continue
			}
			return false
		}
		switch c {
		case iStart, iEnd:
			if !(data.kind == encoding.Int64 && col.timeUnit != 0 || data.kind == encoding.ByteArray) {
				return false
			}
		case iEffective, iBilled, iUSD:
			if !((data.kind == encoding.Int64 || data.kind == encoding.Int32) && (!col.decimal || col.scale >= 0 && col.scale <= maxScale) ||
				data.kind == encoding.ByteArray && !col.decimal) {
				return false
			}
		default:
			if data.kind != encoding.ByteArray {
				return false
			}
		}
	}
	return true
}

// direct makes row i straight from the column arrays, as parse would
// from its values, for the kinds directKinds accepts; false sends the row
// to parse (a null, a value that does not read, or a row that is refused).
// Dictionary-encoded subscriptions are parsed once per dictionary entry.
func (p *pqParser) direct(i int, line int64) bool {
	r := &p.row
	r.Line = line
	var ok bool
	if r.ChargePeriodStart, ok = p.timeAt(iStart, i, &p.startCache); !ok {
		return false
	}
	if r.ChargePeriodEnd, ok = p.timeAt(iEnd, i, &p.endCache); !ok || !r.ChargePeriodEnd.After(r.ChargePeriodStart) {
		return false
	}
	r.ChargeCategory = p.columns[iCategory].bytesAt(i)
	res := &p.columns[iResource]
	r.ResourceID, r.ResourceRef = res.bytesAt(i), 0
	if res.isDict && !res.isNull(i) {
		r.ResourceRef = p.dictGen<<32 | uint64(res.idx[i]+1)
	}
	if r.Subscription, ok = p.subAt(i); !ok {
		return false
	}
	if _, ok := p.subs.check(r.ResourceID, r.Subscription); !ok {
		return false
	}
	r.ServiceName = p.columns[iService].bytesAt(i)
	r.BillingCurrency = p.columns[iCurrency].bytesAt(i)
	if !p.amountAt(iEffective, i, &r.EffectiveCost) || !p.amountAt(iBilled, i, &r.BilledCost) {
		return false
	}
	r.HasEffectiveCostInUSD = p.cols[iUSD].leaf >= 0
	return !r.HasEffectiveCostInUSD || p.amountAt(iUSD, i, &r.EffectiveCostInUSD)
}

// dictGens numbers the row groups read, for Row.ResourceRef.
var dictGens atomic.Uint32

// instant is the last timestamp read of a column, and its time.
type instant struct {
	v int64
	t time.Time
}

func (p *pqParser) timeAt(c, i int, last *instant) (time.Time, bool) {
	data := &p.columns[c]
	if data.isNull(i) {
		return time.Time{}, false
	}
	if data.kind == encoding.ByteArray {
		return p.texts[c].parse(data.bytesAt(i))
	}
	v := data.ints[i]
	if v != last.v || last.t.IsZero() {
		// As parse reads it (pqParser.time).
		last.v, last.t = v, time.Unix(0, 0).Add(time.Duration(v)*p.cols[c].timeUnit).UTC()
	}
	return last.t, true
}

// subAt parses row i's SubAccountId, once per dictionary entry.
func (p *pqParser) subAt(i int) (GUID, bool) {
	data := &p.columns[iSubAccount]
	if data.isNull(i) {
		return GUID{}, false
	}
	if !data.isDict {
		return parseSubAccount(data.bytesAt(i))
	}
	k := int(data.idx[i])
	if len(p.subGUIDs) == 0 {
		p.subGUIDs = append(p.subGUIDs, make([]subGUID, data.dictLen())...)
	}
	s := &p.subGUIDs[k]
	if s.state == 0 {
		s.state = 2
		if g, ok := parseSubAccount(data.bytesAt(i)); ok {
			s.g, s.state = g, 1
		}
	}
	return s.g, s.state == 1
}

// subGUID is a dictionary entry's subscription: state 0 not parsed yet, 1
// valid, 2 not a subscription.
type subGUID struct {
	g     GUID
	state uint8
}

func (p *pqParser) amountAt(c, i int, a *Amount) bool {
	data := &p.columns[c]
	if data.isNull(i) {
		return false
	}
	if data.kind == encoding.ByteArray {
		return a.parse(data.bytesAt(i)) == nil
	}
	n := data.ints[i] // an Int32 is held widened, as parse reads it
	scale := int32(0)
	if p.cols[c].decimal {
		scale = p.cols[c].scale
	}
	if n <= -int64(pow10[18]) || n >= int64(pow10[18]) {
		return false
	}
	*a = Amount{coef: n, scale: scale}
	return true
}

func (c *column) isNull(i int) bool { return len(c.null) > 0 && c.null[i] }

// bytesAt is row i's bytes in a byte array column (nil when null).
func (c *column) bytesAt(i int) []byte {
	if c.isNull(i) {
		return nil
	}
	if c.isDict {
		k := c.idx[i]
		return c.dict[c.dictOffs[k]:c.dictOffs[k+1]:c.dictOffs[k+1]]
	}
	return c.vals[i]
}

// read decodes a flat column chunk into c.
func (c *column) read(chunk parquet.ColumnChunk, maxDef int) error {
	c.reset()
	pages := chunk.Pages()
	defer pages.Close()
	var dict parquet.Dictionary
	for {
		pg, err := pages.ReadPage()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		keep, err := c.page(pg, maxDef, &dict)
		if keep {
			c.kept = append(c.kept, pg) // its values are read in place
		} else {
			parquet.Release(pg)
		}
		if err != nil {
			return err
		}
	}
}

// page appends one page's rows; keep asks the caller to keep the page
// until the row group is read (its byte arrays are read in place).
func (c *column) page(pg parquet.Page, maxDef int, dict *parquet.Dictionary) (keep bool, err error) {
	levels := pg.DefinitionLevels()
	rows := int(pg.NumValues())
	if maxDef == 0 {
		levels = nil
	}
	if len(levels) > 0 {
		rows = len(levels)
		if !slices.ContainsFunc(levels, func(l byte) bool { return int(l) != maxDef }) {
			levels = nil // every value is there: read as a required column's
		}
	}
	if len(levels) > 0 && len(c.null) < c.rows {
		c.null = append(c.null, make([]bool, c.rows-len(c.null))...) // the rows before had none
	}
	defined := func(i int) bool { return len(levels) == 0 || int(levels[i]) == maxDef }
	if d := pg.Dictionary(); d != nil {
		if err := c.useDictionary(d, dict); err != nil {
			return false, err
		}
		data := pg.Data()
		ix := data.Int32()
		if n := c.dictLen(); len(levels) == 0 && len(ix) >= rows {
			// No nulls: the indexes are checked, then copied or expanded
			// whole.
			ix = ix[:rows]
			if slices.ContainsFunc(ix, func(j int32) bool { return j < 0 || int(j) >= n }) {
				return false, errors.New("a dictionary index is out of range")
			}
			switch c.kind {
			case encoding.ByteArray, encoding.FixedLenByteArray:
				c.idx = append(c.idx, ix...)
			case encoding.Int32, encoding.Int64:
				for _, j := range ix {
					c.ints = append(c.ints, c.dictInts[j])
				}
			case encoding.Float, encoding.Double:
				for _, j := range ix {
					c.floats = append(c.floats, c.dictFloats[j])
				}
			case encoding.Int96:
				for _, j := range ix {
					c.int96s = append(c.int96s, c.dictInt96[j])
				}
			}
			return keep, c.rowsAdded(rows, levels, maxDef)
		}
		k := 0
		for i := range rows {
			if !defined(i) {
				// A null row: its slot holds a zero the row never reads
				// (the dictionary may even be empty).
				switch c.kind {
				case encoding.ByteArray, encoding.FixedLenByteArray:
					c.idx = append(c.idx, -1)
				case encoding.Int32, encoding.Int64:
					c.ints = append(c.ints, 0)
				case encoding.Float, encoding.Double:
					c.floats = append(c.floats, math.NaN())
				case encoding.Int96:
					c.int96s = append(c.int96s, deprecated.Int96{})
				}
				continue
			}
			if k >= len(ix) || ix[k] < 0 || int(ix[k]) >= c.dictLen() {
				return false, errors.New("a dictionary index is out of range")
			}
			j := ix[k]
			k++
			switch c.kind {
			case encoding.ByteArray, encoding.FixedLenByteArray:
				c.idx = append(c.idx, j)
			case encoding.Int32, encoding.Int64:
				c.ints = append(c.ints, c.dictInts[j])
			case encoding.Float, encoding.Double:
				c.floats = append(c.floats, c.dictFloats[j])
			case encoding.Int96:
				c.int96s = append(c.int96s, c.dictInt96[j])
			}
		}
		return keep, c.rowsAdded(rows, levels, maxDef)
	}
	if *dict != nil {
		return false, errNotColumnWise // a chunk whose dictionary filled up goes on in plain pages
	}
	data := pg.Data()
	if c.kind == encoding.Undefined {
		c.kind = data.Kind()
	} else if c.kind != data.Kind() {
		return false, fmt.Errorf("a column chunk mixes %s and %s pages", c.kind, data.Kind())
	}
	k := 0
	switch data.Kind() {
	case encoding.Int32, encoding.Int64:
		var vs []int64
		if data.Kind() == encoding.Int64 {
			vs = data.Int64()
		}
		var v32 []int32
		if data.Kind() == encoding.Int32 {
			v32 = data.Int32()
		}
		if len(levels) == 0 && vs != nil && len(vs) >= rows {
			c.ints = append(c.ints, vs[:rows]...) // no nulls: the page's values whole
			break
		}
		for i := range rows {
			var v int64
			if defined(i) {
				if vs != nil {
					if k >= len(vs) {
						return false, errors.New("a page holds fewer values than its rows")
					}
					v = vs[k]
				} else {
					if k >= len(v32) {
						return false, errors.New("a page holds fewer values than its rows")
					}
					v = int64(v32[k])
				}
				k++
			}
			c.ints = append(c.ints, v)
		}
	case encoding.Float, encoding.Double:
		vf, vd := []float32(nil), []float64(nil)
		if data.Kind() == encoding.Float {
			vf = data.Float()
		} else {
			vd = data.Double()
		}
		for i := range rows {
			v := math.NaN()
			if defined(i) {
				if vd != nil {
					if k >= len(vd) {
						return false, errors.New("a page holds fewer values than its rows")
					}
					v = vd[k]
				} else {
					if k >= len(vf) {
						return false, errors.New("a page holds fewer values than its rows")
					}
					v = float64(vf[k])
				}
				k++
			}
			c.floats = append(c.floats, v)
		}
	case encoding.Int96:
		vs := data.Int96()
		for i := range rows {
			var v deprecated.Int96
			if defined(i) {
				if k >= len(vs) {
					return false, errors.New("a page holds fewer values than its rows")
				}
				v = vs[k]
				k++
			}
			c.int96s = append(c.int96s, v)
		}
	case encoding.ByteArray:
		b, offs := data.ByteArray()
		keep = true
		for i := range rows {
			var v []byte
			if defined(i) {
				if k+1 >= len(offs) {
					return keep, errors.New("a page holds fewer values than its rows")
				}
				v = b[offs[k]:offs[k+1]:offs[k+1]]
				k++
			}
			c.vals = append(c.vals, v)
		}
	case encoding.FixedLenByteArray:
		b, size := data.FixedLenByteArray()
		if c.size != 0 && c.size != size || size <= 0 {
			return false, errors.New("fixed-length values change size")
		}
		c.size = size
		for i := range rows {
			c.offs = append(c.offs, uint32(len(c.bytes)))
			if defined(i) {
				if (k+1)*size > len(b) {
					return false, errors.New("a page holds fewer values than its rows")
				}
				c.bytes = append(c.bytes, b[k*size:(k+1)*size]...)
				k++
			} else {
				c.bytes = append(c.bytes, make([]byte, size)...)
			}
		}
	default: // BOOLEAN: the row reader words what it makes of it
		return false, errNotColumnWise
	}
	return keep, c.rowsAdded(rows, levels, maxDef)
}

// rowsAdded records the nulls of the rows a page added.
func (c *column) rowsAdded(rows int, levels []byte, maxDef int) error {
	if len(levels) > 0 || len(c.null) > 0 {
		for i := range rows {
			c.null = append(c.null, len(levels) > 0 && int(levels[i]) != maxDef)
		}
	}
	c.rows += rows
	return nil
}

// useDictionary copies the dictionary's values once per dictionary.
func (c *column) useDictionary(d parquet.Dictionary, last *parquet.Dictionary) error {
	if d == *last {
		return nil
	}
	if *last != nil || c.rows > 0 {
		return errNotColumnWise // a second dictionary, or plain pages before one
	}
	*last = d
	data := d.Page().Data()
	c.kind = data.Kind()
	switch data.Kind() {
	case encoding.ByteArray:
		b, offs := data.ByteArray()
		c.dict = append(c.dict[:0], b...)
		c.dictOffs = append(c.dictOffs[:0], offs...)
		if len(c.dictOffs) == 0 {
			c.dictOffs = append(c.dictOffs, 0)
		}
	case encoding.FixedLenByteArray:
		b, size := data.FixedLenByteArray()
		c.dict, c.size = append(c.dict[:0], b...), size
	case encoding.Int32:
		c.dictInts = c.dictInts[:0]
		for _, v := range data.Int32() {
			c.dictInts = append(c.dictInts, int64(v))
		}
	case encoding.Int64:
		c.dictInts = append(c.dictInts[:0], data.Int64()...)
	case encoding.Float:
		c.dictFloats = c.dictFloats[:0]
		for _, v := range data.Float() {
			c.dictFloats = append(c.dictFloats, float64(v))
		}
	case encoding.Double:
		c.dictFloats = append(c.dictFloats[:0], data.Double()...)
	case encoding.Int96:
		c.dictInt96 = append(c.dictInt96[:0], data.Int96()...)
	default:
		return errNotColumnWise
	}
	c.isDict = c.kind == encoding.ByteArray || c.kind == encoding.FixedLenByteArray
	return nil
}

// dictLen is the number of values in the dictionary.
func (c *column) dictLen() int {
	switch c.kind {
	case encoding.ByteArray:
		return max(len(c.dictOffs)-1, 0)
	case encoding.FixedLenByteArray:
		if c.size == 0 {
			return 0
		}
		return len(c.dict) / c.size
	case encoding.Int32, encoding.Int64:
		return len(c.dictInts)
	case encoding.Float, encoding.Double:
		return len(c.dictFloats)
	}
	return len(c.dictInt96)
}
