package attribution

import (
	"os"
	"strings"
	"testing"

	"github.com/partnerlink/partnerlink/world"
)

// NewIndex skips validating a world only as world.Read returned it; one
// changed since is validated again and refused when invalid.
func TestNewIndexValidatesChangedWorld(t *testing.T) {
	f, err := os.Open("testdata/azure-basic/world.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := world.Read(f, "world.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewIndex(doc); err != nil {
		t.Fatal(err)
	}
	bad := doc.RoleAssignments[0]
	bad.Scope = "subscriptions/nope"
	doc.RoleAssignments = append(doc.RoleAssignments, bad)
	_, err = NewIndex(doc)
	if err == nil || !strings.HasPrefix(err.Error(), "attribution: ") || !strings.Contains(err.Error(), "does not start with /") {
		t.Fatalf("NewIndex of a changed, invalid world: %v", err)
	}
}
