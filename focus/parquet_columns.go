package focus

import (
	"fmt"
	"io"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/partnerlink/partnerlink"
)

// Reading a row group column by column (docs/performance.md): when every
// column attribution reads is required (no nulls) and stored as byte arrays
// or 64-bit integers — as the usage store writes them — each column's pages
// are decoded straight into values, a dictionary's entries are made into
// values once per dictionary rather than once per row, and the columns the
// engine does not read are never decoded. Rows then go through the same
// checks as any other (pqParser.parse). Other files are read row by row.

// columnWise reports whether every column read can be read page by page.
func (p *pqParser) columnWise() bool {
	if noColumnWise {
		return false
	}
	for c := range p.cols {
		col := &p.cols[c]
		if col.leaf < 0 {
			continue
		}
		if !col.required || (col.kind != parquet.ByteArray && col.kind != parquet.Int64) {
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
		vals, err := readColumn(chunks[p.cols[c].leaf], p.columns[c][:0])
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

// readColumn appends the values of a required column chunk to dst. Byte
// arrays are copied out of the reader's buffers (which it reuses), each
// dictionary once.
func readColumn(chunk parquet.ColumnChunk, dst []parquet.Value) ([]parquet.Value, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var dict parquet.Dictionary
	var dictVals []parquet.Value
	for {
		pg, err := pages.ReadPage()
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
		if d := pg.Dictionary(); d != nil {
			if d != dict {
				dict, dictVals = d, copyByteArrays(d.Page().Data(), dictVals[:0])
			}
			data := pg.Data()
			for _, ix := range data.Int32() {
				if ix < 0 || int(ix) >= len(dictVals) {
					parquet.Release(pg)
					return dst, fmt.Errorf("dictionary index %d out of %d", ix, len(dictVals))
				}
				dst = append(dst, dictVals[ix])
			}
		} else {
			data := pg.Data()
			switch data.Kind() {
			case encoding.Int64:
				for _, v := range data.Int64() {
					dst = append(dst, parquet.Int64Value(v))
				}
			case encoding.ByteArray:
				dst = copyByteArrays(data, dst)
			default:
				parquet.Release(pg)
				return dst, fmt.Errorf("unexpected %s page", data.Kind())
			}
		}
		parquet.Release(pg)
	}
}

// copyByteArrays appends the byte arrays of data to dst as values over one
// copy of their bytes.
func copyByteArrays(data encoding.Values, dst []parquet.Value) []parquet.Value {
	if data.Kind() != encoding.ByteArray {
		return dst
	}
	b, offsets := data.ByteArray()
	if len(offsets) == 0 {
		return dst
	}
	own := make([]byte, len(b))
	copy(own, b)
	for i := 0; i+1 < len(offsets); i++ {
		dst = append(dst, parquet.ByteArrayValue(own[offsets[i]:offsets[i+1]:offsets[i+1]]))
	}
	return dst
}
