package attribution

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink/world"
)

// TestScenarios runs every folder of testdata: world.json, usage.csv and
// period ("FROM TO") in, expected.csv out, compared byte for byte
// (docs/api.md#attribution-csv). azure-basic is the shared worked example.
func TestScenarios(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/expected.csv")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios: %v", err)
	}
	for _, exp := range dirs {
		dir := filepath.Dir(exp)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			wf, err := os.Open(filepath.Join(dir, "world.json"))
			if err != nil {
				t.Fatal(err)
			}
			defer wf.Close()
			doc, err := world.Read(wf, "world.json")
			if err != nil {
				t.Fatal(err)
			}
			ix, err := NewIndex(doc)
			if err != nil {
				t.Fatal(err)
			}
			period, err := os.ReadFile(filepath.Join(dir, "period"))
			if err != nil {
				t.Fatal(err)
			}
			f := strings.Fields(string(period))
			from, _ := time.Parse("2006-01-02", f[0])
			to, _ := time.Parse("2006-01-02", f[1])
			want, err := os.ReadFile(exp)
			if err != nil {
				t.Fatal(err)
			}
			for _, workers := range []int{1, 3} {
				r, err := NewRun(ix, Options{From: from, To: to, Workers: workers, chunkSize: 200})
				if err != nil {
					t.Fatal(err)
				}
				f, err := os.Open(filepath.Join(dir, "usage.csv"))
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if err := r.Scan(f, "usage.csv"); err != nil {
					t.Fatal(err)
				}
				var out bytes.Buffer
				if err := r.Result().WriteCSV(&out); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(out.Bytes(), want) {
					t.Fatalf("workers %d: output differs.\ngot:\n%s\nwant:\n%s", workers, out.Bytes(), want)
				}
			}
		})
	}
}
