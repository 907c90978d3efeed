package main

import (
	"io"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

// dictParquet writes the rows of the Parquet file in again as Arrow and
// parquet-mr (Spark) write by default: every column dictionary-encoded
// until its dictionary reaches 1 MiB in a column chunk, plain pages after
// that; Snappy; 1 MiB pages; row groups of groupRows rows (Arrow's
// default is 1Mi rows; parquet-mr cuts at 128 MB, about 5M of these rows).
func dictParquet(in, out string, groupRows int64) error {
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	g := parquet.Group{}
	for _, field := range pf.Schema().Fields() {
		g[field.Name()] = parquet.Encoded(parquet.Compressed(field, &snappy.Codec{}), &parquet.RLEDictionary)
	}
	schema := parquet.NewSchema("usage", g)
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	w := parquet.NewWriter(o, schema, parquet.DictionaryMaxBytes(1<<20), parquet.MaxRowsPerRowGroup(groupRows), parquet.PageBufferSize(1<<20))
	r := parquet.NewReader(pf, schema)
	defer r.Close()
	buf := make([]parquet.Row, 4096)
	for {
		n, err := r.ReadRows(buf)
		if _, werr := w.WriteRows(buf[:n]); werr != nil {
			return werr
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return o.Close()
}
