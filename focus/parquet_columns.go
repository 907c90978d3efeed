package focus

import (
	"errors"
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/partnerlink/partnerlink"
)

// Reading a row group column by column (docs/performance.md): when every
// column attribution reads is flat (required, or optional at the top
// level), each column's pages are decoded straight into values, a
// dictionary's entries are made into values once per dictionary rather
// than once per row, and the columns the engine does not read are never
// decoded. Rows then go through the same checks as any other
// (pqParser.parse). Files with nested columns are read row by row.

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

// fastGroup is group, column by column.
func (p *pqParser) fastGroup(w int, g parquet.RowGroup, offset int64, fn RowFunc) (int64, error) {
	n := int(g.NumRows())
	chunks := g.ColumnChunks()
	for c := range p.cols {
		if p.cols[c].leaf < 0 {
			p.columns[c] = p.columns[c][:0]
			continue
		}
		vals, err := readColumn(chunks[p.cols[c].leaf], p.cols[c].maxDef, p.columns[c][:0])
		if err != nil || len(vals) != n {
			if err == nil {
				err = fmt.Errorf("column %d has %d values for %d rows", c, len(vals), n)
			}
			return offset + 1, partnerlink.Errorf(partnerlink.EINVALID, "%s row %d: the Parquet data cannot be read (%v); the file is damaged or truncated and is refused whole", p.name, offset+1, err)
		}
		p.columns[c] = vals
	}
	for i := range n {
		for c := range p.vals {
			if p.cols[c].leaf < 0 {
				p.vals[c] = parquet.Value{}
			} else {
				p.vals[c] = p.columns[c][i]
			}
		}
		line := offset + int64(i) + 1
		if err := p.parse(line); err != nil {
			return line, err
		}
		if err := fn(w, &p.row); err != nil {
			return line, err
		}
	}
	return 0, nil
}

// readColumn appends the values of a flat column chunk to dst, a null
// value where the definition level says so. Byte arrays are copied out of
// the reader's buffers (which it reuses), each dictionary once.
func readColumn(chunk parquet.ColumnChunk, maxDef int, dst []parquet.Value) ([]parquet.Value, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var dict parquet.Dictionary
	var dictVals, plain []parquet.Value
	for {
		pg, err := pages.ReadPage()
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		// vals are the page's non-null values, in order.
		var vals []parquet.Value
		if d := pg.Dictionary(); d != nil {
			if d != dict {
				dict = d
				if dictVals, err = appendValues(dictVals[:0], d.Page().Data()); err != nil {
					parquet.Release(pg)
					return dst, err
				}
			}
			data := pg.Data()
			plain = plain[:0]
			for _, ix := range data.Int32() {
				if ix < 0 || int(ix) >= len(dictVals) {
					parquet.Release(pg)
					return dst, fmt.Errorf("dictionary index %d out of %d", ix, len(dictVals))
				}
				plain = append(plain, dictVals[ix])
			}
			vals = plain
		} else {
			if plain, err = appendValues(plain[:0], pg.Data()); err != nil {
				parquet.Release(pg)
				return dst, err
			}
			vals = plain
		}
		if levels := pg.DefinitionLevels(); maxDef > 0 && len(levels) > 0 {
			k := 0
			for _, l := range levels {
				if int(l) == maxDef && k < len(vals) {
					dst = append(dst, vals[k])
					k++
				} else {
					dst = append(dst, parquet.Value{})
				}
			}
			if k != len(vals) {
				parquet.Release(pg)
				return dst, fmt.Errorf("a page holds %d values for %d defined rows", len(vals), k)
			}
		} else {
			dst = append(dst, vals...)
		}
		parquet.Release(pg)
	}
}

// appendValues appends the values of data to dst, byte arrays over one
// copy of their bytes.
func appendValues(dst []parquet.Value, data encoding.Values) ([]parquet.Value, error) {
	switch data.Kind() {
	case encoding.Boolean:
		return dst, errors.New("boolean values where a FOCUS column is read")
	case encoding.Int32:
		for _, v := range data.Int32() {
			dst = append(dst, parquet.Int32Value(v))
		}
	case encoding.Int64:
		for _, v := range data.Int64() {
			dst = append(dst, parquet.Int64Value(v))
		}
	case encoding.Int96:
		for _, v := range data.Int96() {
			dst = append(dst, parquet.Int96Value(v))
		}
	case encoding.Float:
		for _, v := range data.Float() {
			dst = append(dst, parquet.FloatValue(v))
		}
	case encoding.Double:
		for _, v := range data.Double() {
			dst = append(dst, parquet.DoubleValue(v))
		}
	case encoding.ByteArray:
		b, offsets := data.ByteArray()
		if len(offsets) == 0 {
			return dst, nil
		}
		own := make([]byte, len(b))
		copy(own, b)
		for i := 0; i+1 < len(offsets); i++ {
			dst = append(dst, parquet.ByteArrayValue(own[offsets[i]:offsets[i+1]:offsets[i+1]]))
		}
	case encoding.FixedLenByteArray:
		b, size := data.FixedLenByteArray()
		if size <= 0 {
			return dst, nil
		}
		own := make([]byte, len(b))
		copy(own, b)
		for i := 0; i+size <= len(own); i += size {
			dst = append(dst, parquet.FixedLenByteArrayValue(own[i:i+size:i+size]))
		}
	default:
		return dst, fmt.Errorf("unexpected %s values", data.Kind())
	}
	return dst, nil
}
