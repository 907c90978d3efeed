// Command rewrite-parquet writes a Parquet file's rows again the way
// parquet-mr (Spark), Arrow and parquet-go write by default: every column
// dictionary-encoded until its dictionary reaches 1 MiB in a column chunk,
// plain pages after that, Snappy, 1 MiB pages (docs/performance.md,
// "Parquet as other writers make it"):
//
//	go run ./cmd/rewrite-parquet -in out/10000000/usage.parquet -out out/10000000/usage-dict.parquet
package main

import (
	"flag"
	"io"
	"log"
	"os"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress/snappy"
)

func main() {
	in := flag.String("in", "", "the Parquet file to read")
	out := flag.String("out", "", "the Parquet file to write")
	dictMax := flag.Int64("dict-max", 1<<20, "a column chunk's dictionary limit in bytes")
	groupRows := flag.Int64("group-rows", 1_000_000, "rows per row group")
	flag.Parse()
	if err := rewrite(*in, *out, *dictMax, *groupRows); err != nil {
		log.Fatal(err)
	}
}

func rewrite(in, out string, dictMax, groupRows int64) error {
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
	w := parquet.NewWriter(o, schema, parquet.DictionaryMaxBytes(dictMax), parquet.MaxRowsPerRowGroup(groupRows), parquet.PageBufferSize(1<<20))
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
