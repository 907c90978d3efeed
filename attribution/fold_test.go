package attribution

import (
	"bytes"
	"hash/maphash"
	"strings"
	"testing"
)

// foldEqual works on 8 bytes at a time; it must agree with folding A-Z
// byte by byte on both sides (the registry's keys, docs/rules.md#identifiers-and-time) on any
// input, bytes ≥ 0x80 and the bytes next to 'A', 'Z', 'a' and 'z' included.
func FuzzFoldEqual(f *testing.F) {
	f.Add([]byte("/subscriptions/0000/resourceGroups/RG-@[`{/x"), "/subscriptions/0000/resourcegroups/rg-@[`{/x")
	f.Add([]byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{\x80\xff"), "abcdefghijklmnopqrstuvwxyz@[`{\x80\xff")
	f.Add([]byte("Microsoft.Compute/virtualMachines/vm-1"), "microsoft.compute/virtualmachines/vm-2")
	f.Add([]byte("/subscriptions/0000/resourcegroups/rg/providers/x"), "/subscriptions/0000/resourceGroups/RG/providers/X")
	f.Add([]byte("\xc3\x89TAT-Ab"), "\xc3\x89tat-aB")
	f.Fuzz(func(t *testing.T, a []byte, b string) {
		want := len(a) == len(b)
		for i := 0; want && i < len(a); i++ {
			want = lowerByte(a[i]) == lowerByte(b[i])
		}
		if got := foldEqual(a, b); got != want {
			t.Fatalf("foldEqual(%q, %q) = %v, want %v", a, b, got, want)
		}
		// a in any casing, as its key or its upper case, must always match.
		lower, upper := make([]byte, len(a)), make([]byte, len(a))
		for i, c := range a {
			lower[i], upper[i] = lowerByte(c), c
			if 'a' <= c && c <= 'z' {
				upper[i] = c - ('a' - 'A')
			}
		}
		if !foldEqual(a, string(lower)) || !foldEqual(upper, string(a)) {
			t.Fatalf("foldEqual(%q, another casing of it) = false", a)
		}
	})
}

func lowerByte(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// foldHash: ids equal under foldEqual hash the same, whatever their
// casing, so the run's resource cache finds a resource in every spelling.
func FuzzFoldHash(f *testing.F) {
	f.Add([]byte("/subscriptions/0000/resourceGroups/RG-Web/providers/Microsoft.Compute/virtualMachines/VM-1"))
	f.Add([]byte("short"))
	f.Add([]byte(""))
	f.Add([]byte("\xc3\x89TAT-Ab@[`{"))
	f.Fuzz(func(t *testing.T, a []byte) {
		lower := []byte(strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, string(a)))
		if len(lower) != len(a) || !foldEqual(a, string(lower)) {
			return // invalid UTF-8 that strings.Map rewrote
		}
		if foldHash(a) != foldHash(lower) {
			t.Fatalf("foldHash(%q) = %x, foldHash(%q) = %x", a, foldHash(a), lower, foldHash(lower))
		}
		if other := append(bytes.Clone(lower), '1'); foldHash(other) == foldHash(lower) {
			t.Errorf("foldHash(%q) = foldHash(%q)", other, lower)
		}
	})
}

// The registry keeps no keys: resources under one hash are told apart by
// subscription and fold, and a new one is chained before the others.
func TestRegistryTellsResourcesUnderOneHashApart(t *testing.T) {
	g := newRegistry()
	sub, other := &subscription{id: "00000000-0000-4000-8000-000000000001"}, &subscription{id: "00000000-0000-4000-8000-000000000002"}
	const id = "/subscriptions/00000000-0000-4000-8000-000000000001/resourceGroups/RG/providers/P/x/VM"
	key := append(make([]byte, 16), strings.ToLower(id)...)
	h := maphash.Bytes(g.seed, key)
	sh := &g.shards[h%uint64(len(g.shards))]
	// Two resources already under the key's hash: another id, and the same
	// id of another subscription.
	a := &resource{fold: id + "2", sub: sub}
	b := &resource{fold: id, sub: other, sameHash: a}
	sh.m[h] = b
	create := func([]byte) *resource { return &resource{sub: sub} }
	at := position{0, 1}
	got := g.get(sub, key, at, []byte(strings.ToUpper(id)), nil, create)
	if got == a || got == b || got.sameHash != b || sh.m[h] != got {
		t.Fatalf("a new resource was not made and chained first: %+v", got)
	}
	if got.fold != strings.ToUpper(id) || got.raw != got.fold {
		t.Errorf("fold %q, raw %q: want the registering spelling, shared", got.fold, got.raw)
	}
	// Found again in any spelling; an earlier row's spelling becomes raw.
	if again := g.get(sub, key, position{0, 0}, []byte(id), nil, create); again != got || again.raw != id || again.fold != strings.ToUpper(id) {
		t.Errorf("found %p (want %p), raw %q, fold %q", again, got, again.raw, again.fold)
	}
	// The resource of the other subscription is still found below it.
	sh.m[h] = a
	a.sameHash = b
	b.sameHash = nil
	if found := g.get(other, key, at, []byte(id), nil, create); found != b {
		t.Errorf("the other subscription's resource was not found down the chain: %+v", found)
	}
}
