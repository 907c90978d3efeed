package main

import (
	"io"
	"os"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/deprecated"
)

// The bench's Parquet file (written by DuckDB) written again as other
// writers make Parquet (docs/performance.md, "Parquet as other writers
// make it").

// dictParquet writes the rows of the Parquet file in again as Arrow and
// parquet-mr (Spark) write by default: every column dictionary-encoded
// until its dictionary reaches 1 MiB in a column chunk, plain pages after
// that; Snappy; 1 MiB pages; row groups of groupRows rows (Arrow's
// default is 1Mi rows; parquet-mr cuts at 128 MB, about 5M of these rows).
func dictParquet(in, out string, groupRows int64) error {
	return rewriteParquet(in, out, func(field parquet.Field) parquet.Node {
		return parquet.Encoded(parquet.Compressed(field, &snappy.Codec{}), &parquet.RLEDictionary)
	}, nil, parquet.DictionaryMaxBytes(1<<20), parquet.MaxRowsPerRowGroup(groupRows), parquet.PageBufferSize(1<<20))
}

// int96Parquet writes the rows of the Parquet file in again with
// ChargePeriodStart and ChargePeriodEnd as INT96 (the legacy Impala
// timestamps Spark wrote by default for years), in DuckDB's row groups.
func int96Parquet(in, out string) error {
	isTime := func(name string) bool { return name == "ChargePeriodStart" || name == "ChargePeriodEnd" }
	return rewriteParquet(in, out, func(field parquet.Field) parquet.Node {
		if isTime(field.Name()) {
			return parquet.Optional(parquet.Leaf(parquet.Int96Type))
		}
		return field
	}, func(path []string, v parquet.Value) parquet.Value {
		if !isTime(path[0]) || v.IsNull() {
			return v
		}
		t := time.UnixMicro(v.Int64()).UTC()
		nanos := uint64(t.Sub(t.Truncate(24 * time.Hour)))
		julian := uint32(t.Unix()/86400 + 2440588)
		return parquet.Int96Value(deprecated.Int96{uint32(nanos), uint32(nanos >> 32), julian}).Level(v.RepetitionLevel(), v.DefinitionLevel(), v.Column())
	}, parquet.MaxRowsPerRowGroup(122880))
}

// rewriteParquet copies the rows of the Parquet file in to out, each
// column as node makes it and each value as value makes it (nil: as it
// is), with the writer's options.
func rewriteParquet(in, out string, node func(parquet.Field) parquet.Node, value func(path []string, v parquet.Value) parquet.Value, opts ...parquet.WriterOption) error {
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
	// Columns in a parquet.Group's order, read and written alike.
	src, dst := parquet.Group{}, parquet.Group{}
	for _, field := range pf.Schema().Fields() {
		src[field.Name()], dst[field.Name()] = field, node(field)
	}
	srcSchema, dstSchema := parquet.NewSchema("usage", src), parquet.NewSchema("usage", dst)
	paths := srcSchema.Columns()
	o, err := os.Create(out)
	if err != nil {
		return err
	}
	defer o.Close()
	w := parquet.NewWriter(o, append([]parquet.WriterOption{dstSchema}, opts...)...)
	r := parquet.NewReader(pf, srcSchema)
	defer r.Close()
	buf := make([]parquet.Row, 4096)
	for {
		n, err := r.ReadRows(buf)
		if value != nil {
			for _, row := range buf[:n] {
				for j, v := range row {
					row[j] = value(paths[v.Column()], v)
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
