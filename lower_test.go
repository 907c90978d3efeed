package partnerlink

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// ToLower and HasUpperASCII agree with the strings package on ASCII and
// other text of every length around the 8-byte words they take.
func TestToLowerIsStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", "A", "z", "@", "[", "`", "{", "0", "/", "-", "é", "İ", "K", "\x7f", "\xff"}
	cases := []string{"", "/subscriptions/9C406475-3584-4259-8C6E-115B6395D173/resourceGroups/RG-Web", "already/lower-case/text!"}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(40) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		cases = append(cases, b.String())
	}
	for _, s := range cases {
		if got, want := ToLower(s), strings.ToLower(s); got != want {
			t.Fatalf("ToLower(%q) = %q, want %q", s, got, want)
		}
		if got, want := HasUpperASCII(s), strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"); got != want {
			t.Fatalf("HasUpperASCII(%q) = %v, want %v", s, got, want)
		}
	}
}

// docs/performance.md: a scope with upper-case letters lower-cased.
func BenchmarkToLower(b *testing.B) {
	s := "/subscriptions/9c406475-3584-4259-8c6e-115b6395d173/resourceGroups/rg-web/providers/Microsoft.Web/sites/Shop"
	b.Run("strings", func(b *testing.B) {
		for b.Loop() {
			_ = strings.ToLower(s)
		}
	})
	b.Run("partnerlink", func(b *testing.B) {
		for b.Loop() {
			_ = ToLower(s)
		}
	})
}
