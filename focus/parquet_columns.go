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
func (p *pqParser) columnWise() bool { return flatColumns(p.cols) }

// flatColumns reports whether every column read is flat.
func flatColumns(cols [nColumns]pqColumn) bool {
	if noColumnWise {
		return false
	}
	for c := range cols {
		if col := &cols[c]; col.leaf >= 0 && col.maxDef > 1 {
			return false
		}
	}
	return true
}

// noColumnWise turns the column-wise reader off (tests compare the two).
var noColumnWise = false

// column is one column chunk's values, row by row, read a batch of rows
// at a time (fill, trim): its arrays hold the row group's rows base to
// rows-1, row i at i-base, so that a row group of millions of rows (as
// parquet-mr writes them) costs the memory of a few pages per column.
type column struct {
	kind       encoding.Kind
	base, rows int
	null       []bool // per row once a page had definition levels; else empty

	ints   []int64   // Int32 and Int64
	floats []float64 // Float and Double
	int96s []deprecated.Int96
	// Byte arrays: row i's bytes are vals[i], in the memory of the pages
	// kept (nil for a null); with a dictionary, dict[dictOffs[idx[i]]:…].
	// A chunk whose dictionary filled up goes on in plain pages (as
	// parquet-mr, Arrow and parquet-go write by default): its later rows
	// have idx plainValue and their bytes in vals, which then has a slot
	// for every row.
	vals    [][]byte
	kept    []parquet.Page
	keptEnd []int // the row after each kept page's last
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
	// The chunk's pages still to read (nil once read), the rows [from,
	// want) read of it, whether want is its end, and its dictionary.
	pages      parquet.Pages
	from, want int
	toEnd      bool
	maxDef     int
	chunkDict  parquet.Dictionary
}

// plainValue is the idx of a row read from a plain page after the
// dictionary's pages.
const plainValue = -2

// errNotColumnWise sends a row group to the row-by-row reader.
var errNotColumnWise = errors.New("read row by row")

func (c *column) reset() {
	c.release()
	c.kind, c.base, c.rows, c.null = encoding.Undefined, 0, 0, c.null[:0]
	c.ints, c.floats, c.int96s = c.ints[:0], c.floats[:0], c.int96s[:0]
	c.bytes, c.offs, c.dict, c.dictOffs, c.idx, c.isDict, c.size = c.bytes[:0], c.offs[:0], c.dict[:0], c.dictOffs[:0], c.idx[:0], false, 0
}

// release gives back the pages the column's values were in, and stops
// reading its chunk.
func (c *column) release() {
	for _, pg := range c.kept {
		parquet.Release(pg)
	}
	clear(c.kept)
	clear(c.vals)
	c.kept, c.keptEnd, c.vals = c.kept[:0], c.keptEnd[:0], c.vals[:0]
	if c.pages != nil {
		c.pages.Close()
	}
	c.pages, c.chunkDict = nil, nil
}

// value is row i's value, over the column's memory (valid until reset).
func (c *column) value(i int) parquet.Value {
	if c.isNull(i) {
		return parquet.Value{}
	}
	j := i - c.base
	switch c.kind {
	case encoding.Int32:
		return parquet.Int32Value(int32(c.ints[j]))
	case encoding.Int64:
		return parquet.Int64Value(c.ints[j])
	case encoding.Float:
		return parquet.FloatValue(float32(c.floats[j]))
	case encoding.Double:
		return parquet.DoubleValue(c.floats[j])
	case encoding.Int96:
		return parquet.Int96Value(c.int96s[j])
	case encoding.ByteArray:
		return parquet.ByteArrayValue(c.bytesAt(i))
	case encoding.FixedLenByteArray:
		return parquet.FixedLenByteArrayValue(c.rawAt(i))
	}
	return parquet.Value{}
}

// onHandOver, when set (by tests), learns from which row of a row group
// the column-wise reader hands the group over to the row-by-row one.
var onHandOver func(from int)

// batchRows is how many rows of a row group fastGroup makes at a time:
// its columns hold these rows' pages and little more.
const batchRows = 16384

// fastGroup is group, column by column.
func (p *pqParser) fastGroup(w int, g parquet.RowGroup, offset int64, from, to int, fn RowFunc) (int64, error) {
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
		if err := p.columns[c].open(chunks[p.cols[c].leaf], from, to, n, p.cols[c].maxDef); err != nil {
			line := offset + int64(from) + 1
			return line, p.damaged(line, err)
		}
	}
	// The caches hold for one row group (its dictionary, its time unit).
	p.subGUIDs, p.startCache, p.endCache = p.subGUIDs[:0], instant{}, instant{}
	p.dictGen = uint64(dictGens.Add(1))
	direct := false
	for start := from; start < to; start += batchRows {
		end := min(start+batchRows, to)
		for c := range p.cols {
			if p.cols[c].leaf < 0 {
				continue
			}
			col := &p.columns[c]
			if col.rows < col.want {
				// (A column that holds all its rows, as one page of
				// DuckDB's does, reads no more pages: trimming it would
				// save no memory.)
				col.trim(start)
			}
			err := col.fill(end)
			if err == errNotColumnWise {
				if onHandOver != nil {
					onHandOver(start)
				}
				return p.group(w, g, offset, start, to, fn)
			}
			if err == nil && (col.rows < end || col.rows > n) {
				err = fmt.Errorf("column %d has %d values for %d rows", c, col.rows, n)
			}
			if err != nil {
				line := offset + int64(start) + 1
				return line, p.damaged(line, err)
			}
		}
		if start == from {
			direct = p.directKinds()
		}
		for i := start; i < end; i++ {
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
			p.inFn = true
			err := fn(w, &p.row)
			p.inFn = false
			if err != nil {
				return line, err
			}
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
			if !(data.kind == encoding.Int64 && col.timeUnit != 0 || data.kind == encoding.ByteArray ||
				data.kind == encoding.Int96 || data.kind == encoding.Int32 && col.date) {
				return false
			}
		case iEffective, iBilled, iUSD:
			if !((data.kind == encoding.Int64 || data.kind == encoding.Int32) && (!col.decimal || col.scale >= 0 && col.scale <= maxScale) ||
				(data.kind == encoding.ByteArray || data.kind == encoding.Double || data.kind == encoding.Float) && !col.decimal ||
				(data.kind == encoding.ByteArray || data.kind == encoding.FixedLenByteArray) && col.decimal) {
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
		if k := res.idx[i-res.base]; k >= 0 {
			r.ResourceRef = p.dictGen<<32 | uint64(k+1)
		}
	}
	if r.Subscription, ok = p.subAt(i); !ok {
		return false
	}
	if _, ok := p.subs.check(r.ResourceID, r.Subscription); !ok {
		return false
	}
	r.ServiceName = p.columns[iService].bytesAt(i)
	if r.BillingCurrency = p.columns[iCurrency].bytesAt(i); !p.stored && !validCurrency(r.BillingCurrency) {
		return false
	}
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
	switch data.kind {
	case encoding.ByteArray:
		return p.texts[c].parse(data.bytesAt(i))
	case encoding.Int96:
		return int96Time(data.int96s[i-data.base]), true
	}
	v := data.ints[i-data.base]
	if v != last.v || last.t.IsZero() {
		// As parse reads it (pqParser.time).
		if data.kind == encoding.Int32 {
			last.v, last.t = v, time.Unix(v*86400, 0).UTC() // a DATE
		} else {
			last.v, last.t = v, time.Unix(0, 0).Add(time.Duration(v)*p.cols[c].timeUnit).UTC()
		}
	}
	return last.t, true
}

// subAt parses row i's SubAccountId, once per dictionary entry.
func (p *pqParser) subAt(i int) (GUID, bool) {
	data := &p.columns[iSubAccount]
	if data.isNull(i) {
		return GUID{}, false
	}
	if !data.isDict || data.idx[i-data.base] < 0 {
		return parseSubAccount(data.bytesAt(i))
	}
	k := int(data.idx[i-data.base])
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
	switch data.kind {
	case encoding.ByteArray, encoding.FixedLenByteArray:
		if p.cols[c].decimal {
			return setBigEndianDecimal(a, data.rawAt(i), p.cols[c].scale)
		}
		return a.parse(data.bytesAt(i)) == nil
	case encoding.Double:
		return p.floatAmount(a, data.floats[i-data.base], 64)
	case encoding.Float:
		return p.floatAmount(a, data.floats[i-data.base], 32)
	}
	n := data.ints[i-data.base] // an Int32 is held widened, as parse reads it
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

func (c *column) isNull(i int) bool { return len(c.null) > 0 && c.null[i-c.base] }

// rawAt is row i's bytes in a byte array or fixed-length column (nil
// when null).
func (c *column) rawAt(i int) []byte {
	if c.kind != encoding.FixedLenByteArray || c.isNull(i) {
		return c.bytesAt(i)
	}
	j := i - c.base
	if c.isDict {
		k := int(c.idx[j])
		return c.dict[k*c.size : (k+1)*c.size : (k+1)*c.size]
	}
	o := int(c.offs[j])
	return c.bytes[o : o+c.size : o+c.size]
}

// bytesAt is row i's bytes in a byte array column (nil when null).
func (c *column) bytesAt(i int) []byte {
	if c.isNull(i) {
		return nil
	}
	j := i - c.base
	if c.isDict {
		if k := c.idx[j]; k >= 0 {
			return c.dict[c.dictOffs[k]:c.dictOffs[k+1]:c.dictOffs[k+1]]
		}
	}
	return c.vals[j]
}

// open starts reading the rows [from, to) of a flat column chunk of rows
// rows into c (fill, trim).
func (c *column) open(chunk parquet.ColumnChunk, from, to, rows, maxDef int) error {
	c.reset()
	c.pages, c.from, c.want, c.toEnd, c.maxDef = chunk.Pages(), from, to, to == rows, maxDef
	c.base, c.rows = from, from
	if from > 0 {
		return c.pages.SeekToRow(int64(from)) // through the offset index (groupSpans)
	}
	return nil
}

// fill decodes pages until c holds the rows before upto, or the chunk
// ends. Once it holds the last rows of the chunk it reads on to the
// chunk's end (a page more is a damaged chunk), which lets go of the page
// reader's buffers at once.
func (c *column) fill(upto int) error {
	for c.pages != nil && (c.rows < upto || c.toEnd && c.rows >= c.want) {
		pg, err := c.pages.ReadPage()
		if err == io.EOF {
			c.pages.Close()
			c.pages = nil
			return nil
		}
		if err != nil {
			return err
		}
		keep, err := c.page(pg, c.maxDef, &c.chunkDict)
		if keep {
			c.kept = append(c.kept, pg) // its values are read in place
			c.keptEnd = append(c.keptEnd, c.rows)
		} else {
			parquet.Release(pg)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// trim lets go of the rows before row `before`: the pages that held only
// such rows go back to parquet-go's pools, and the arrays move down once
// at least half of what they hold is rows let go of (so each row moves at
// most once, on average).
func (c *column) trim(before int) {
	k := 0
	for k < len(c.kept) && c.keptEnd[k] <= before {
		parquet.Release(c.kept[k])
		k++
	}
	if k > 0 {
		c.kept = dropFront(c.kept, k)
		c.keptEnd = dropFront(c.keptEnd, k)
	}
	n := before - c.base
	if n <= 0 || 2*n < c.rows-c.base {
		return
	}
	c.null, c.ints, c.floats, c.int96s = dropFront(c.null, n), dropFront(c.ints, n), dropFront(c.floats, n), dropFront(c.int96s, n)
	c.vals, c.idx = dropFront(c.vals, n), dropFront(c.idx, n)
	if len(c.offs) > 0 {
		// Fixed-length values were copied into bytes: those left move
		// down with their offsets.
		c.offs = dropFront(c.offs, n)
		first := uint32(len(c.bytes))
		if len(c.offs) > 0 {
			first = c.offs[0]
		}
		c.bytes = c.bytes[:copy(c.bytes, c.bytes[first:])]
		for i := range c.offs {
			c.offs[i] -= first
		}
	}
	c.base = before
}

// dropFront removes s's first n elements in place.
func dropFront[S ~[]E, E any](s S, n int) S {
	if n >= len(s) {
		clear(s)
		return s[:0]
	}
	m := copy(s, s[n:])
	clear(s[m:])
	return s[:m]
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
	if held := c.rows - c.base; len(levels) > 0 && len(c.null) < held {
		c.null = append(c.null, make([]bool, held-len(c.null))...) // the rows before had none
	}
	defined := func(i int) bool { return len(levels) == 0 || int(levels[i]) == maxDef }
	if d := pg.Dictionary(); d != nil {
		if len(c.vals) > 0 {
			return false, errNotColumnWise // dictionary pages after plain ones
		}
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
	data := pg.Data()
	if *dict != nil {
		// The chunk's dictionary filled up: it goes on in plain pages.
		// Numbers were expanded from the dictionary, so they just go on;
		// byte arrays keep the dictionary's rows as indexes.
		if data.Kind() != c.kind || c.kind == encoding.FixedLenByteArray {
			return false, errNotColumnWise
		}
		if held := c.rows - c.base; c.kind == encoding.ByteArray && len(c.vals) < held {
			c.vals = append(c.vals, make([][]byte, held-len(c.vals))...) // the rows before are read through idx
		}
	}
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
		if c.isDict {
			for range rows {
				c.idx = append(c.idx, plainValue)
			}
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
	if *last != nil || c.rows > c.from {
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
