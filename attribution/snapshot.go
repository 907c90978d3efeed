package attribution

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/partnerlink/partnerlink/focus"
)

// A snapshot is an index's grants in a binary form (docs/performance.md,
// "Index snapshots"): reading a large world document, checking it and
// indexing it takes about a second; reading its snapshot back, a few tens
// of milliseconds. `partnerlink attribute` keeps one per world document it
// has read, under the SHA-256 of the document's bytes, so a document read
// again is not parsed again. A snapshot holds no world: an index read from
// one has no Document, Chains or Explain (as after DropWorld).

// snapshotMagic starts a snapshot; the number after it is the format's
// version, changed whenever the layout or the index's meaning changes.
const snapshotMagic = "partnerlink index snapshot 1\n"

// WriteSnapshot returns the index's snapshot. An index whose grants were
// let go (DropGrants) has none: it panics.
func (ix *Index) WriteSnapshot() []byte {
	if ix.grantsDropped {
		panic("attribution: WriteSnapshot after DropGrants")
	}
	b := []byte(snapshotMagic)
	str := func(s string) []byte {
		b = binary.AppendUvarint(b, uint64(len(s)))
		return append(b, s...)
	}
	grants := func(gs []grant) {
		b = binary.AppendUvarint(b, uint64(len(gs)))
		for _, g := range gs {
			b = binary.AppendUvarint(b, uint64(g.partner))
			w := byte(0)
			if g.writer {
				w = 1
			}
			b = append(b, w)
			b = binary.AppendVarint(b, g.from)
			b = binary.AppendVarint(b, g.to)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(ix.partners)))
	for _, p := range ix.partners {
		b = str(p)
	}
	b = binary.AppendUvarint(b, uint64(len(ix.orgOf)))
	for _, o := range ix.orgOf {
		b = binary.AppendVarint(b, int64(o))
	}
	// Subscriptions and scopes in key order: the same index, the same bytes.
	guids := make([]focus.GUID, 0, len(ix.subs))
	for g := range ix.subs {
		guids = append(guids, g)
	}
	slices.SortFunc(guids, func(a, b focus.GUID) int { return bytes.Compare(a[:], b[:]) })
	b = binary.AppendUvarint(b, uint64(len(guids)))
	for _, g := range guids {
		s := ix.subs[g]
		b = append(b, g[:]...)
		b = str(s.id)
		b = str(s.tenant)
		b = binary.AppendUvarint(b, uint64(len(s.mgs)))
		for _, m := range s.mgs {
			b = str(m)
		}
		grants(s.grants)
		none := byte(0)
		if s.none {
			none = 1
		}
		b = append(b, none)
	}
	keys := make([]string, 0, len(ix.scopes))
	for k := range ix.scopes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = binary.AppendUvarint(b, uint64(len(keys)))
	for _, k := range keys {
		b = str(k)
		grants(ix.scopes[k])
	}
	sum := sha256.Sum256(b)
	return append(b, sum[:]...)
}

// errSnapshot is a snapshot that cannot be read: cut short, damaged, or of
// another format version.
var errSnapshot = errors.New("not a readable index snapshot")

// ReadSnapshot reads an index from what WriteSnapshot wrote.
func ReadSnapshot(data []byte) (*Index, error) {
	if len(data) < len(snapshotMagic)+sha256.Size || string(data[:len(snapshotMagic)]) != snapshotMagic {
		return nil, errSnapshot
	}
	body := data[:len(data)-sha256.Size]
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], data[len(body):]) {
		return nil, errSnapshot
	}
	r := snapshotReader{b: body[len(snapshotMagic):]}
	// Every string is cut from one copy of the snapshot's bytes, and every
	// grant list from one array: a few allocations for the whole index.
	r.text = string(r.b)
	ix := &Index{subs: map[focus.GUID]*subscription{}, scopes: map[string][]grant{}}
	ix.chainsOnce.Do(func() {}) // no world: no chains
	n := r.count()
	for range n {
		ix.partners = append(ix.partners, r.str())
	}
	r.partners = len(ix.partners)
	if n := r.count(); n > 0 {
		if n > len(ix.partners) {
			r.fail()
		}
		ix.orgOf = make([]int32, n)
		for i := range ix.orgOf {
			// An organization's key follows the partner IDs (-1: none).
			o := r.varint()
			if o != -1 && (o < int64(n) || o >= int64(len(ix.partners))) {
				r.fail()
			}
			ix.orgOf[i] = int32(o)
		}
	}
	n = r.count()
	for range n {
		var g focus.GUID
		copy(g[:], r.bytes(len(g)))
		s := &subscription{id: r.str(), tenant: r.str()}
		if m := r.count(); m > 0 {
			s.mgs = make([]string, m)
			for i := range s.mgs {
				s.mgs[i] = r.str()
			}
		}
		s.grants = r.grants()
		s.none = r.byte() == 1
		ix.subs[g] = s
	}
	n = r.count()
	ix.scopes = make(map[string][]grant, n)
	for range n {
		k := r.str()
		ix.scopes[k] = r.grants()
	}
	if r.err != nil || len(r.b) != 0 {
		return nil, errSnapshot
	}
	noteScopeDepths(ix)
	for _, p := range ix.partners {
		if p == "" {
			return nil, errSnapshot
		}
	}
	return ix, nil
}

// snapshotReader reads a snapshot's body; the first error sticks and
// reads return zero values from then on.
type snapshotReader struct {
	b    []byte
	text string // the body as one string, for strings cut from it
	base int    // where b starts in text
	err  error
	// partners is how many partners the index has: a grant naming
	// another is refused, as a run would index out of range.
	partners int
}

func (r *snapshotReader) fail() { r.err, r.b = errSnapshot, nil }

func (r *snapshotReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b, r.base = r.b[n:], r.base+n
	return v
}

// varint reads what binary.AppendVarint wrote: a zig-zag uvarint.
func (r *snapshotReader) varint() int64 {
	u := r.uvarint()
	x := int64(u >> 1)
	if u&1 != 0 {
		x = ^x
	}
	return x
}

// count is a number of items, each at least a byte long.
func (r *snapshotReader) count() int {
	v := r.uvarint()
	if v > uint64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(v)
}

func (r *snapshotReader) bytes(n int) []byte {
	if n > len(r.b) {
		r.fail()
		return make([]byte, n)
	}
	out := r.b[:n]
	r.b, r.base = r.b[n:], r.base+n
	return out
}

func (r *snapshotReader) byte() byte { return r.bytes(1)[0] }

func (r *snapshotReader) str() string {
	n := r.count()
	if r.err != nil {
		return ""
	}
	s := r.text[r.base : r.base+n]
	r.b, r.base = r.b[n:], r.base+n
	return s
}

func (r *snapshotReader) grants() []grant {
	n := r.count()
	if n == 0 {
		return nil
	}
	gs := make([]grant, n)
	for i := range gs {
		p := r.uvarint()
		if p >= uint64(r.partners) {
			r.fail()
		}
		gs[i] = grant{partner: int32(p), writer: r.byte() == 1, from: r.varint(), to: r.varint()}
	}
	return gs
}

// ReadIndexFile reads the world document at path and returns its index,
// through the snapshot cache in dir (no cache when dir is ""): a document
// whose bytes were indexed before is read from its snapshot, and a new one
// is read, checked and indexed (ReadIndex), and its snapshot kept. The
// cache keeps the newest snapshots only (keepSnapshots); a snapshot that
// cannot be read is replaced. The index has no world (DropWorld).
func ReadIndexFile(path, dir string) (*Index, error) {
	program := ""
	if dir != "" {
		program = programID()
	}
	if program != "" {
		// The file is hashed as it is read, not held: a document whose
		// snapshot is there is never decoded (a large one is 80 MB).
		if f, err := os.Open(path); err == nil {
			var file string
			st, err := f.Stat()
			if err == nil {
				file, err = snapshotName(dir, program, f, st.Size())
			}
			f.Close()
			if b, rerr := os.ReadFile(file); err == nil && rerr == nil {
				if ix, err := ReadSnapshot(b); err == nil {
					now := time.Now()
					os.Chtimes(file, now, now) // the newest used, for pruning
					return ix, nil
				}
			}
		}
	}
	if program == "" {
		// The document is read from the file into one buffer sized for it.
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read world document: %w", err)
		}
		defer f.Close()
		ix, err := ReadIndex(f, path)
		if err != nil {
			return nil, err
		}
		ix.DropWorld()
		return ix, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world document: %w", err)
	}
	// Named by the bytes indexed (the file may have changed since it was
	// hashed above), before they are decoded: data is not kept alive
	// beside the document's own copy.
	file, _ := snapshotName(dir, program, bytes.NewReader(data), int64(len(data)))
	ix, err := ReadIndex(bytes.NewReader(data), path)
	if err != nil {
		return nil, err
	}
	ix.DropWorld()
	// A cache that cannot be written only costs the next run its speed.
	if err := writeSnapshotFile(dir, file, ix.WriteSnapshot()); err == nil {
		pruneSnapshots(dir, file)
	}
	return ix, nil
}

// snapshotName is the file in dir of the snapshot of the size bytes that
// r holds, as program indexes them.
func snapshotName(dir, program string, r io.ReaderAt, size int64) (string, error) {
	sum, err := blockSum(r, size)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	h.Write([]byte(program))
	h.Write(sum[:])
	return filepath.Join(dir, "index-"+hex.EncodeToString(h.Sum(nil))+".snapshot"), nil
}

// blockSum is the SHA-256 of the SHA-256s of the size bytes r holds, in
// blocks of 8 MiB hashed on every core (a large world document is 80 MB),
// and of their number: the same whatever the number of cores.
func blockSum(r io.ReaderAt, size int64) ([sha256.Size]byte, error) {
	const block = 8 << 20
	sums := make([][sha256.Size]byte, (size+block-1)/block)
	errs := make([]error, len(sums))
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), max(len(sums), 1)) {
		wg.Go(func() {
			h := sha256.New()
			for {
				i := next.Add(1) - 1
				if i >= int64(len(sums)) {
					return
				}
				h.Reset()
				if _, errs[i] = io.Copy(h, io.NewSectionReader(r, i*block, min(block, size-i*block))); errs[i] != nil {
					return
				}
				h.Sum(sums[i][:0])
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return [sha256.Size]byte{}, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%d bytes in blocks of %d\x00", size, block)
	for i := range sums {
		h.Write(sums[i][:])
	}
	return [sha256.Size]byte(h.Sum(nil)), nil
}

// programID identifies the program that indexes: its commit when it was
// built from a clean checkout, else the hash of its executable (blockSum); "" when
// neither is known (then nothing is cached). A snapshot made by another
// build is never read, whatever its rules.
var programID = sync.OnceValue(func() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		var rev, modified string
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				modified = s.Value
			}
		}
		if rev != "" && modified == "false" {
			return "commit " + rev
		}
	}
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	f, err := os.Open(exe)
	if err != nil {
		return ""
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return ""
	}
	sum, err := blockSum(f, st.Size())
	if err != nil {
		return ""
	}
	return "executable " + hex.EncodeToString(sum[:])
})

// keepSnapshots is how many snapshots the cache keeps: a few worlds in
// use at once (each some tens of megabytes at a large world).
const keepSnapshots = 4

func writeSnapshotFile(dir, file string, b []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".index-*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// pruneSnapshots removes all but the keepSnapshots most recently used
// snapshots of dir (never keep, the one just written).
func pruneSnapshots(dir, keep string) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type snap struct {
		path string
		used int64
	}
	var snaps []snap
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), "index-") || !strings.HasSuffix(e.Name(), ".snapshot") {
			continue
		}
		if info, err := e.Info(); err == nil {
			snaps = append(snaps, snap{filepath.Join(dir, e.Name()), info.ModTime().UnixNano()})
		}
	}
	slices.SortFunc(snaps, func(a, b snap) int { return cmp.Compare(b.used, a.used) })
	for i, s := range snaps {
		if i >= keepSnapshots && s.path != keep {
			os.Remove(s.path)
		}
	}
}
