package world

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sequential is how Read decoded every document before decodeParallel, and
// still decodes what decodeParallel declines (then normalizes it, which
// decodeParallel does as it decodes).
func sequential(t *testing.T, data []byte) Document {
	t.Helper()
	var doc Document
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("sequential decode: %v", err)
	}
	Normalize(&doc)
	return doc
}

// The parallel decode of a valid document equals the sequential one: every
// member, and the role assignments cut in two and joined again — including
// strings holding commas, braces, brackets and escaped quotes next to the
// cut.
func TestDecodeParallelEqualsSequential(t *testing.T) {
	var docs [][]byte
	for _, f := range []string{"testdata/azure-basic.json", "testdata/full-unsorted.json"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, b)
	}
	var ras []string
	for i := range 501 {
		scope := fmt.Sprintf(`/subscriptions/s/resourceGroups/rg-%d/providers/p/x/n,{}[]\"\\%d`, i, i)
		ras = append(ras, fmt.Sprintf(`{"tenantId":"t","id":"a%d","principalId":"p","roleDefinition":"Reader","scope":%q,"from":"2026-03-01T00:00:00Z","to":null}`, i, scope))
	}
	docs = append(docs, []byte(`{"version":1,"partners":[],"roleAssignments":[`+strings.Join(ras, ",\n  ")+`],"links":null}`))
	docs = append(docs, []byte(`{"version":1,"roleAssignments":[]}`), []byte(`{"version":1,"roleAssignments":[{"id":"only"}]}`))
	for i, data := range docs {
		want := sequential(t, data)
		var got Document
		if !decodeParallel(data, &got) {
			t.Fatalf("document %d: decodeParallel declined a valid document", i)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("document %d: parallel and sequential decodes differ", i)
		}
	}
}

// decodeParallel declines what it cannot decode exactly as before, so Read
// words the error the old way (the messages are tested in world_test.go),
// and leaves the bytes as they were for that decode.
func TestDecodeParallelDeclines(t *testing.T) {
	for _, data := range []string{
		``, `[]`, `{"version":1,"Tenants":[]}`, `{"version":1,"colour":"red"}`, `{"tenants":[],"tenants":[]}`,
		`{"version":"1"}`, `{"roleAssignments":[{"scop":"/"}]}`, `{"roleAssignments":[{"id":"a"},{"id":1}]}`,
		`{"version":1} {}`, `{"version":1`, `{"links":[{"from":"yesterday"}]}`,
		`{"version":1,"roleAssignments":[{"id":"a"},{"id":"b"},{"id":"c"}],"links":[{"from":"yesterday"}]}`,
	} {
		var doc Document
		b := []byte(data)
		if decodeParallel(b, &doc) {
			t.Errorf("decodeParallel accepted %q", data)
		}
		if string(b) != data {
			t.Errorf("decodeParallel declined %q and left %q", data, b)
		}
	}
}

// Fuzz: whatever the bytes, decodeParallel either declines or agrees with
// the sequential decode — it never accepts what the sequential decode
// refuses.
func FuzzDecodeParallel(f *testing.F) {
	f.Add([]byte(`{"version":1,"roleAssignments":[{"id":"a"},{"id":"b,}"}],"links":[]}`))
	f.Add([]byte(`{"version":1 , "partners" : [ ] }`))
	// Where the JSON v2 decoder differs from encoding/json: stricter on
	// names and UTF-8 (the parallel path must refuse these, the sequential
	// decode takes them), and laxer on escapes in instants (both must
	// refuse "\u005a" for "Z").
	f.Add([]byte(`{"version":1,"links":[{"tenantId":"a","TenantId":"b"}]}`))
	f.Add([]byte(`{"version":1,"links":[{"tenantId":"a","tenantId":"b"}]}`))
	f.Add([]byte("{\"version\":1,\"tenants\":[{\"name\":\"\xff\"}]}"))
	f.Add([]byte(`{"version":1,"links":[{"from":"2026-03-01T00:00:00+02:00","to":null}],"roleAssignments":[{"from":"2026-03-01T00:00:00Z"},{"to":"2026-03-01T00:00:00.5Z"}]}`))
	f.Add([]byte(`{"version":1,"roleAssignments":[{"id":"a\\"},{"id":"\"\\\""},{"id":"c"}]}`))
	f.Add([]byte(`{"version":1,"links":[{"from":"2026-03-01T00:00:00\u005a"}]}`))
	f.Add([]byte(`{"version":1,"roleAssignments":[{"id":"a"},{"from":"\u0032026-03-01T00:00:00Z"}]}`))
	// Instants without escapes are read by the v2 decoder's own parser,
	// which must refuse what time.Time's UnmarshalJSON refuses.
	for _, t := range []string{"2026-03-01T00:00:00+24:00", "2026-03-01T00:00:00+00:60", "2026-03-01T0:00:00Z",
		"2026-03-01T00:00:00,5Z", "2026-03-01t00:00:00z", "2026-03-01 00:00:00Z", "2026-02-30T00:00:00Z", "2026-03-01T24:00:00Z"} {
		f.Add([]byte(`{"version":1,"links":[{"from":"` + t + `"}]}`))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got Document
		orig := bytes.Clone(data)
		if !decodeParallel(data, &got) {
			if !bytes.Equal(data, orig) {
				t.Fatalf("decodeParallel declined %q and left %q", orig, data)
			}
			return
		}
		var want Document
		dec := json.NewDecoder(bytes.NewReader(orig))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil || dec.More() {
			t.Fatalf("decodeParallel accepted %q, which the sequential decode refuses (%v)", orig, err)
		}
		Normalize(&want)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: parallel and sequential decodes differ", orig)
		}
	})
}

// arrayEnd ends an array where valueEnd does, and cuts it between
// elements, never inside a string or a nested value, and not at all when
// there is one element; it counts the elements before the cut.
func TestArrayEnd(t *testing.T) {
	type cut struct {
		before string
		n      int
	}
	for raw, want := range map[string]cut{
		`[{"s":"a,b"},{"s":"c"},{"s":"d"}]`: {`[{"s":"a,b"},{"s":"c"}`, 2},
		`[1,2,3,4,5,6,7,8]`:                 {`[1,2,3,4`, 4},
		`[ 1 , 2 ]`:                         {`[ 1 `, 1},
		`[{"s":"],,"}]`:                     {"", 0},
		`[ ]`:                               {"", 0},
		`[]`:                                {"", 0},
	} {
		end, i, n := arrayEnd([]byte(raw), 0, len(raw)/2)
		got := cut{"", n}
		if i >= 0 {
			got.before = raw[:i]
		}
		if got != want || end != len(raw) || end != valueEnd([]byte(raw), 0) {
			t.Errorf("arrayEnd(%s) = %q and %d elements, ending at %d; want %q and %d, ending at %d", raw, got.before, got.n, end, want.before, want.n, len(raw))
		}
	}
	for _, raw := range []string{`[1 2]`, `[1,`, `[1,]`, `[`} {
		if end, _, _ := arrayEnd([]byte(raw), 0, 0); end >= 0 {
			t.Errorf("arrayEnd(%s) ends at %d, want -1", raw, end)
		}
	}
}
