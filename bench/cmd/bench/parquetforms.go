package main

import (
	"io"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/deprecated"
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

// int96Parquet writes the rows of the Parquet file in again with
// ChargePeriodStart and ChargePeriodEnd as INT96 (the legacy Impala
// timestamps Spark wrote by default for years), in DuckDB's row groups.
func int96Parquet(in, out string) error {
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
	isTime := func(name string) bool { return name == "ChargePeriodStart" || name == "ChargePeriodEnd" }
	src, dst := parquet.Group{}, parquet.Group{}
	for _, field := range pf.Schema().Fields() {
		src[field.Name()], dst[field.Name()] = field, field
		if isTime(field.Name()) {
			dst[field.Name()] = parquet.Optional(parquet.Leaf(parquet.Int96Type))
		}
	}
	srcSchema, dstSchema := parquet.NewSchema("usage", src), parquet.NewSchema("usage", dst)
	times := map[int]bool{}
	for i, path := range srcSchema.Columns() {
		times[i] = isTime(path[0])
	}
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	w := parquet.NewWriter(o, dstSchema, parquet.MaxRowsPerRowGroup(122880))
	r := parquet.NewReader(pf, srcSchema)
	defer r.Close()
	buf := make([]parquet.Row, 4096)
	for {
		n, err := r.ReadRows(buf)
		for _, row := range buf[:n] {
			for j, v := range row {
				if times[v.Column()] && !v.IsNull() {
					t := time.UnixMicro(v.Int64()).UTC()
					nanos := uint64(t.Sub(t.Truncate(24 * time.Hour)))
					julian := uint32(t.Unix()/86400 + 2440588)
					row[j] = parquet.Int96Value(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), julian}).Level(v.RepetitionLevel(), v.DefinitionLevel(), v.Column())
				}
			}
		}
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
