package focus

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
)

// EstimateRows returns about how many rows the FOCUS file at path holds,
// without reading it: a Parquet file's count from its footer (exact); for
// CSV, the file's size over the mean length of the lines in its first MiB;
// for gzip CSV, the same through the compression ratio of that first MiB.
// It is what a large input is cut into passes by (docs/performance.md,
// "Memory as rows grow"); a file it cannot make sense of, or that is not a
// regular file (a pipe), counts as 0.
func EstimateRows(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("open usage file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !st.Mode().IsRegular() {
		return 0, nil // a pipe: read once, as it comes
	}
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n < 2 {
		return 0, nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	const sample = 1 << 20
	switch {
	case string(magic[:]) == "PAR1":
		pf, err := openParquet(f, st.Size())
		if err != nil {
			return 0, nil // Scan says what is wrong with it
		}
		return pf.NumRows(), nil
	case magic[0] == 0x1f && magic[1] == 0x8b:
		in := &countReader{r: bufio.NewReaderSize(f, 64<<10)}
		gz, err := gzip.NewReader(in)
		if err != nil {
			return 0, nil
		}
		text, _ := io.ReadAll(io.LimitReader(gz, sample))
		lines := bytes.Count(text, []byte{'\n'})
		if lines == 0 || in.n == 0 {
			return 0, nil
		}
		// Lines per compressed byte, over the whole compressed size.
		return int64(float64(lines) / float64(in.n) * float64(st.Size())), nil
	}
	text := make([]byte, sample)
	n, _ := io.ReadFull(f, text)
	lines := bytes.Count(text[:n], []byte{'\n'})
	if lines == 0 {
		return 0, nil
	}
	return st.Size() * int64(lines) / int64(n), nil
}

// countReader counts the bytes read through it.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
