package attribution

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A resource's grants are its subscription's and its scopes' lists merged
// (docs/rules.md#credit): merging the normalized lists gives what sorting
// their union gives, repeats dropped.
func TestMergeGrantsIsTheNormalizedUnion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	list := func() []grant {
		gs := make([]grant, rng.IntN(6))
		for i := range gs {
			// Few values, so that lists share grants and partners.
			gs[i] = grant{partner: rng.Int32N(4), writer: rng.IntN(2) == 0, from: rng.Int64N(3), to: 3 + rng.Int64N(3)}
		}
		return normalizeGrants(gs)
	}
	for range 20000 {
		sub := list()
		own := make([][]grant, 1+rng.IntN(10)) // beyond mergeGrants' buffer too
		var all []grant
		all = append(all, sub...)
		for i := range own {
			own[i] = list()
			all = append(all, own[i]...)
		}
		want := normalizeGrants(all)
		got := mergeGrants(sub, own)
		if !slices.Equal(got, want) {
			t.Fatalf("mergeGrants(%v, %v) = %v, want %v", sub, own, got, want)
		}
	}
}
