package attribution

import (
	"testing"

	"github.com/partnerlink/partnerlink/focus"
)

// docs/scale.md: the bucket of a subscription is part of the usage store's
// layout, so it never changes between versions or machines.
func TestBucketOfIsStable(t *testing.T) {
	for sub, want := range map[string][2]int{ // buckets 16, 256
		"f0f0f0f0-0000-4000-8000-000000000001": {2, 242},
		"9d8c7b6a-5f4e-4d3c-8b2a-190807060504": {9, 9},
	} {
		g, ok := focus.ParseGUID(sub)
		if !ok {
			t.Fatal(sub)
		}
		if got := [2]int{BucketOf(g, 16), BucketOf(g, 256)}; got != want {
			t.Errorf("BucketOf(%s) = %v, want %v", sub, got, want)
		}
	}
	if BucketOf(focus.GUID{}, 1) != 0 || BucketOf(focus.GUID{}, 0) != 0 {
		t.Error("one bucket holds everything")
	}
}
