package focus

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/parquet-go/parquet-go"
)

// splitAll splits data into records the way scanCSV does: chunk by chunk
// (with a tiny chunk size, so records straddle reads), then record by
// record.
func splitAll(data []byte, chunkSize int) ([][]string, error) {
	c := &chunker{r: bytes.NewReader(data), line: 1, size: chunkSize}
	var out [][]string
	var sp splitter
	for {
		buf, _, err := c.next(nil)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		for pos := 0; pos < len(buf); {
			fields, end, _, ok, _, err := sp.next(buf, pos)
			if err != nil {
				return out, err
			}
			pos = end
			if ok {
				rec := make([]string, len(fields))
				for i, f := range fields {
					rec[i] = string(f)
				}
				out = append(out, rec)
			}
		}
	}
}

func stdlibAll(data []byte) ([][]string, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// FuzzSplitter checks the fast CSV splitter against encoding/csv: the same
// records when encoding/csv reads the input, an error when it refuses it.
// Seeds are in testdata/fuzz/FuzzSplitter and testdata/*.csv.
func FuzzSplitter(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*.csv")
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err == nil {
			f.Add(b, 7)
		}
	}
	f.Add([]byte("a,b\r\n\"c\r\nd\",e\n"), 3)
	f.Add([]byte("a,\"b\"\"c\",d\n\n\nx"), 1)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk < 1 || chunk > 1<<16 {
			chunk = 1 + (chunk&0xffff+0x10000)%97
		}
		want, werr := stdlibAll(data)
		got, gerr := splitAll(data, chunk)
		if werr != nil {
			if gerr == nil {
				t.Fatalf("encoding/csv refuses (%v) but the splitter accepts %q as %q", werr, data, got)
			}
			return
		}
		if gerr != nil {
			t.Fatalf("the splitter refuses (%v) what encoding/csv reads as %q", gerr, want)
		}
		if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", want) {
			t.Fatalf("input %q:\nsplitter %q\nencoding/csv %q", data, got, want)
		}
	})
}

// FuzzScan feeds arbitrary bytes after a valid header to the whole reader:
// it must return rows or an error naming a line, never panic or hang, and
// agree with itself across worker counts.
func FuzzScan(f *testing.F) {
	f.Add([]byte("2026-03-01T00:00:00Z,2026-03-02T00:00:00Z,Usage,/x,/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504,S,USD,1.5,1\n"))
	f.Add([]byte("2026-03-01,2026-03-02,Usage,,9d8c7b6a-5f4e-4d3c-8b2a-190807060504,\"a\"\"b\",EUR,1e-3,0\r\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append([]byte(header+"\n"), body...)
		run := func(workers int) (string, error) {
			var mu sync.Mutex
			var n int
			var total Sum
			err := Scan(bytes.NewReader(data), "f.csv", Options{Workers: workers, ChunkSize: 16}, func(_ int, r *Row) error {
				mu.Lock()
				defer mu.Unlock()
				n++
				total.Add(r.EffectiveCost)
				return nil
			})
			return fmt.Sprintf("%d %s", n, total.String()), err
		}
		a, errA := run(1)
		b, errB := run(3)
		if fmt.Sprint(errA) != fmt.Sprint(errB) || (errA == nil && a != b) {
			t.Fatalf("workers change the result: %q %v vs %q %v", a, errA, b, errB)
		}
		if errA != nil && !bytes.Contains([]byte(errA.Error()), []byte("f.csv")) {
			t.Fatalf("error does not name the file: %v", errA)
		}
	})
}

// A damaged Parquet file is refused with an error, never a crash, and the
// column-wise reader reads what the row-by-row reader reads.
func FuzzParquet(f *testing.F) {
	f.Add(dictionaryFile(f, 300, 100), 0, byte(0))
	f.Add(dictionaryFile(f, 300, 100), 1200, byte(0x55))
	f.Add(dictionaryFile(f, 300, 100), 2500, byte(0x01))
	f.Fuzz(func(t *testing.T, data []byte, at int, x byte) {
		if len(data) > 0 {
			at = (at%len(data) + len(data)) % len(data)
			data = append([]byte(nil), data...)
			data[at] ^= x
		}
		fast, slow := scanBoth(t, data)
		if !strings.HasPrefix(fast, "error") && !strings.HasPrefix(slow, "error") && fast != slow {
			t.Fatalf("column-wise and row-wise readings differ:\n%.300s\n---\n%.300s", fast, slow)
		}
	})
}

// dictionaryFile is n rows of optional columns whose dictionaries fill up
// at dictMax bytes and go on in plain pages.
func dictionaryFile(tb testing.TB, n int, dictMax int64) []byte {
	return writeParquet(tb, exportRows(n, 90), parquet.MaxRowsPerRowGroup(200), parquet.PageBufferSize(512), parquet.DictionaryMaxBytes(dictMax))
}

// docs/rules.md, "Usage input": damaged Parquet files (bytes changed at
// random, or cut short) are refused with an error, never a crash, even
// where the Parquet library panics on them; what both readers read, they
// read alike.
func TestDamagedParquetIsRefused(t *testing.T) {
	data := dictionaryFile(t, 300, 100)
	r := rand.New(rand.NewSource(2))
	refused := 0
	for k := range 300 {
		d := append([]byte(nil), data...)
		for range 1 + r.Intn(8) {
			d[r.Intn(len(d))] = byte(r.Intn(256))
		}
		if r.Intn(10) == 0 {
			d = d[:r.Intn(len(d))]
		}
		fast, slow := scanBoth(t, d)
		if strings.HasPrefix(fast, "error") {
			refused++
		} else if !strings.HasPrefix(slow, "error") && fast != slow {
			t.Errorf("damage %d: column-wise and row-wise readings differ:\n%.300s\n---\n%.300s", k, fast, slow)
		}
	}
	if refused == 0 {
		t.Error("no damaged file was refused")
	}
}

// A panic while a row group is read is the file's error; a panic of the
// RowFunc is not, and goes on.
func TestReadGroupRecoversTheLibrarysPanics(t *testing.T) {
	p := &pqParser{name: "f.parquet"}
	_, err := p.readGroup(func(int, parquet.RowGroup, int64, int, int, RowFunc) (int64, error) {
		var s []int
		_ = s[3] // as a library would, decoding a damaged page
		return 0, nil
	}, 0, nil, 122880, 1000, 2000, nil)
	if err == nil || !strings.Contains(err.Error(), "f.parquet row 123881: the Parquet data cannot be read") {
		t.Errorf("a panic of the reader: %v", err)
	}
	defer func() {
		if r := recover(); r != "the engine's" {
			t.Errorf("a panic of the RowFunc: recovered %v", r)
		}
	}()
	p.readGroup(func(w int, _ parquet.RowGroup, _ int64, _, _ int, fn RowFunc) (int64, error) {
		p.inFn = true
		return 0, fn(w, &p.row)
	}, 0, nil, 0, 0, 1, func(int, *Row) error { panic("the engine's") })
	t.Error("the RowFunc's panic was recovered")
}
