package attribution

import (
	"bytes"
	"strings"
	"testing"
)

// asciiEqualFold works on 8 bytes at a time; it must agree with folding A-Z
// byte by byte (the registry's keys, docs/rules.md#identifiers-and-time) on any input, bytes ≥ 0x80
// and the bytes next to 'A', 'Z', 'a' and 'z' included.
func FuzzASCIIEqualFold(f *testing.F) {
	f.Add([]byte("/subscriptions/0000/resourceGroups/RG-@[`{/x"), "/subscriptions/0000/resourcegroups/rg-@[`{/x")
	f.Add([]byte("ABCDEFGHIJKLMNOPQRSTUVWXYZ@[`{\x80\xff"), "abcdefghijklmnopqrstuvwxyz@[`{\x80\xff")
	f.Add([]byte("Microsoft.Compute/virtualMachines/vm-1"), "microsoft.compute/virtualmachines/vm-2")
	f.Add([]byte("\xc3\x89TAT-Ab"), "\xc3\x89tat-ab")
	f.Fuzz(func(t *testing.T, a []byte, b string) {
		if strings.ContainsFunc(b, func(r rune) bool { return 'A' <= r && r <= 'Z' }) {
			return // b is a key: lower-case
		}
		want := len(a) == len(b)
		for i := 0; want && i < len(a); i++ {
			c := a[i]
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			want = c == b[i]
		}
		if got := asciiEqualFold(a, b); got != want {
			t.Fatalf("asciiEqualFold(%q, %q) = %v, want %v", a, b, got, want)
		}
		// The lower-cased a itself, as a key would be, must always match.
		lower := make([]byte, len(a))
		for i, c := range a {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			lower[i] = c
		}
		if !asciiEqualFold(a, string(lower)) {
			t.Fatalf("asciiEqualFold(%q, its own key %q) = false", a, lower)
		}
	})
}

// foldHash: ids equal under asciiEqualFold hash the same, whatever their
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
		if len(lower) != len(a) || !asciiEqualFold(a, string(lower)) {
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
