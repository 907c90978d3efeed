package world

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The fold key of every rune is the least rune of its case-folding orbit,
// which strings.EqualFold finds equal to it: two strings then have the same
// key exactly when EqualFold finds them equal.
func TestAppendFoldKeyEveryRune(t *testing.T) {
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		got := string(appendFoldKey(nil, string(r)))
		if got != string(least) {
			t.Fatalf("fold key of %U is %q, want %q", r, got, string(least))
		}
		if !strings.EqualFold(string(r), got) {
			t.Fatalf("EqualFold(%U, its fold key %q) is false", r, got)
		}
	}
}

func TestAppendFoldKeyStrings(t *testing.T) {
	words := []string{
		"", "Reader", "reader", "READER", "Reader ", "\u212Aube", "Kube", "kube",
		"Ops", "OP\u017F", "ops", "Ops i", "Ops \u0130", "Ops I", "stra\u00DFe", "STRASSE", "stra\u1E9Ee",
		"\u03A3\u03C3", "\u03C3\u03C2", "Op\uFFFD", "op\xff", "op\xfe", "op\xc3", "Read\xffer",
		"8E3AF657-A8FF-443C-A75C-2FE8C4BCB635", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
	}
	for _, a := range words {
		for _, b := range words {
			same := string(appendFoldKey(nil, a)) == string(appendFoldKey(nil, b))
			if same != strings.EqualFold(a, b) {
				t.Errorf("%q, %q: same fold key %v, EqualFold %v", a, b, same, !same)
			}
		}
	}
}
