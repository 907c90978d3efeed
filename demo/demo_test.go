package demo

import (
	"testing"

	"github.com/partnerlink/partnerlink/world"
)

// The demo world must pass the same validation as any imported document.
func TestWorldIsValid(t *testing.T) {
	doc := World(NewCredentials())
	world.Normalize(doc)
	if err := world.Validate(doc); err != nil {
		t.Fatal(err)
	}
}
