package attribution

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// snapshotWorld has grants at every kind of scope, an organization with
// two IDs and a subscription nobody is granted.
func snapshotWorld() *builder {
	return newWorld().
		link(tC, uA, pL, "2026-01-01", "").assign(tC, uA, "Contributor", "/subscriptions/"+S1, "2026-01-01", "").
		link(tC, uB, pG, "2026-01-01", "").assign(tC, uB, "Reader", app, "2026-03-06", "2026-03-20").
		link(tC, spC, pA, "2026-01-01", "").assign(tC, spC, "Owner", "/providers/Microsoft.Management/managementGroups/root-mg", "2026-01-01", "")
}

func snapshotRows() string {
	return day("2026-03-05", app, "10.5") + day("2026-03-07", app, "2") + day("2026-03-07", db, "0.125") +
		day("2026-03-08", vm2, "4") + day("2026-03-09", vm3, "1.25") + day("2026-03-21", dbX, "7")
}

// docs/performance.md, "Index snapshots": an index read back from its
// snapshot credits as the index itself, and writes the same snapshot.
func TestSnapshotRoundTrip(t *testing.T) {
	b := snapshotWorld()
	ix, err := NewIndexWithOrganizations(b.doc, map[string]string{pG: pG, pL: pG}, nil)
	if err != nil {
		t.Fatal(err)
	}
	snap := ix.WriteSnapshot()
	back, err := ReadSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	if again := back.WriteSnapshot(); !bytes.Equal(again, snap) {
		t.Errorf("the snapshot of the index read back differs")
	}
	want, wantSum := run(t, ix, snapshotRows())
	got, gotSum := run(t, back, snapshotRows())
	if got != want || gotSum.NoPartner.Rows != wantSum.NoPartner.Rows || want == "" {
		t.Errorf("from the snapshot:\n%s\nfrom the index:\n%s", got, want)
	}
	if back.Document() != nil || back.Chains() != nil {
		t.Errorf("an index read from a snapshot has a world")
	}
}

// A snapshot cut short, damaged or of another format is refused.
func TestSnapshotRefusesDamage(t *testing.T) {
	snap := snapshotWorld().index(t).WriteSnapshot()
	flipped := bytes.Clone(snap)
	flipped[len(flipped)/2] ^= 1
	other := bytes.Clone(snap)
	other[len(snapshotMagic)-2] = '9'
	for name, b := range map[string][]byte{"cut": snap[:len(snap)-1], "flipped": flipped, "other format": other, "empty": nil} {
		if _, err := ReadSnapshot(b); err == nil {
			t.Errorf("%s: read", name)
		}
	}
}

// ReadIndexFile reads a world document it has indexed before from the
// snapshot kept under its bytes, and keeps the newest snapshots only.
// A snapshot whose checksum holds but whose grants or organizations name a
// partner the index does not have is refused, not read into an index a run
// would crash on (anyone who can write the cache directory could make one).
func TestSnapshotRefusesPartnersOutOfRange(t *testing.T) {
	withChecksum := func(ix *Index) []byte {
		b := ix.WriteSnapshot()
		body := b[:len(b)-sha256.Size]
		sum := sha256.Sum256(body)
		return append(body, sum[:]...)
	}
	ix := snapshotWorld().index(t)
	g, _ := focus.ParseGUID(S1)
	ix.subs[g].grants[0].partner = int32(len(ix.partners))
	if _, err := ReadSnapshot(withChecksum(ix)); err == nil {
		t.Errorf("a grant of partner %d of %d: read", len(ix.partners), len(ix.partners))
	}
	orgs, err := NewIndexWithOrganizations(snapshotWorld().doc, map[string]string{pG: pG, pL: pG}, nil)
	if err != nil {
		t.Fatal(err)
	}
	orgs.orgOf[0] = int32(len(orgs.partners))
	if _, err := ReadSnapshot(withChecksum(orgs)); err == nil {
		t.Errorf("an organization out of range: read")
	}
}

func TestReadIndexFileUsesItsSnapshot(t *testing.T) {
	dir, cache := t.TempDir(), t.TempDir()
	write := func(name string, b *builder) string {
		p := filepath.Join(dir, name)
		data, err := json.Marshal(b.doc)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p, data, 0o644)
		return p
	}
	a := write("a.json", snapshotWorld())
	if _, err := ReadIndexFile(a, cache); err != nil {
		t.Fatal(err)
	}
	snaps, _ := filepath.Glob(filepath.Join(cache, "index-*.snapshot"))
	if len(snaps) != 1 {
		t.Fatalf("snapshots %v", snaps)
	}
	// Put another world's index in a's snapshot: reading a again gives
	// that index, so the snapshot was read, not the document.
	other := newWorld().link(tC, uA, pB, "2026-01-01", "").assign(tC, uA, "Owner", "/subscriptions/"+S1, "2026-01-01", "")
	os.WriteFile(snaps[0], other.index(t).WriteSnapshot(), 0o600)
	ix, err := ReadIndexFile(a, cache)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := run(t, ix, snapshotRows()); got != func() string { s, _ := run(t, other.index(t), snapshotRows()); return s }() {
		t.Errorf("a's snapshot was not read:\n%s", got)
	}
	// Without a cache, the document.
	ix, err = ReadIndexFile(a, "")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := run(t, ix, snapshotRows()); got != func() string { s, _ := run(t, snapshotWorld().index(t), snapshotRows()); return s }() {
		t.Errorf("without a cache:\n%s", got)
	}
	// Six more worlds: the cache keeps the newest four.
	for i := range 6 {
		w := snapshotWorld().partnerPeriod(pA, "2026-01-0"+string(rune('1'+i)), "")
		if _, err := ReadIndexFile(write("w.json", w), cache); err != nil {
			t.Fatal(err)
		}
	}
	if snaps, _ := filepath.Glob(filepath.Join(cache, "index-*.snapshot")); len(snaps) != keepSnapshots {
		t.Errorf("%d snapshots kept, want %d", len(snaps), keepSnapshots)
	}
	// A document that is not valid is refused, and nothing is kept of it.
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"version": 1, "links": [{"tenantId": "x"}]}`), 0o644)
	if _, err := ReadIndexFile(bad, cache); err == nil {
		t.Errorf("an invalid document was indexed")
	}
}

// A snapshot's name is the same whatever the number of cores that hash
// the document's blocks, and another for any other bytes: one changed,
// one fewer, or the same bytes under another program.
func TestSnapshotNameHashesBlocks(t *testing.T) {
	data := make([]byte, 17<<20+5) // three blocks, the last one short
	for i := range data {
		data[i] = byte(i * 7 / 3)
	}
	name := func(program string, b []byte, procs int) string {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		n, err := snapshotName("d", program, bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	one := name("p", data, 1)
	if got := name("p", data, 4); got != one {
		t.Errorf("4 cores named it %s, 1 core %s", got, one)
	}
	changed := bytes.Clone(data)
	changed[len(changed)-1]++
	for what, other := range map[string]string{
		"a changed byte":  name("p", changed, 2),
		"one byte fewer":  name("p", data[:len(data)-1], 2),
		"another program": name("q", data, 2),
	} {
		if other == one {
			t.Errorf("%s: the same name %s", what, one)
		}
	}
}
