package attribution

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

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

// ReadIndex checks the document while it builds the index: a valid
// document gives the index NewIndex gives, an invalid one world.Read's
// error and no index.
func TestReadIndex(t *testing.T) {
	data, err := os.ReadFile("testdata/azure-basic/world.json")
	if err != nil {
		t.Fatal(err)
	}
	ix, err := ReadIndex(bytes.NewReader(data), "azure-basic.json")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := world.Read(bytes.NewReader(data), "azure-basic.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := NewIndex(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(ix.Chains(), want.Chains()) || !reflect.DeepEqual(ix.partners, want.partners) ||
		!reflect.DeepEqual(ix.scopes, want.scopes) || len(ix.subs) != len(want.subs) || !world.Validated(ix.Document()) {
		t.Errorf("ReadIndex and NewIndex(world.Read) differ")
	}
	bad := bytes.Replace(data, []byte(`"roleDefinition": "Contributor"`), []byte(`"roleDefinition": "Nobody"`), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("the test document changed; update the replacement")
	}
	_, rerr := world.Read(bytes.NewReader(bad), "bad.json")
	if _, err := ReadIndex(bytes.NewReader(bad), "bad.json"); err == nil || rerr == nil || err.Error() != rerr.Error() {
		t.Errorf("ReadIndex error %v, want world.Read's %v", err, rerr)
	}
}

// DropWorld keeps attribution working and makes Explain say why it cannot.
func TestDropWorld(t *testing.T) {
	f, err := os.Open("testdata/azure-basic/world.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ix, err := ReadIndex(f, "world.json")
	if err != nil {
		t.Fatal(err)
	}
	ix.DropWorld()
	if ix.Document() != nil || ix.Chains() != nil {
		t.Error("the world is still held")
	}
	if _, err := ix.Explain("1234567", "/subscriptions/x", time.Now()); err == nil || !strings.Contains(err.Error(), "NewIndex") {
		t.Errorf("Explain after DropWorld: err = %v", err)
	}
	if len(ix.subs) == 0 {
		t.Error("DropWorld dropped the grants")
	}
}

// An index built handing out its chains (NewIndexEach) hands out the
// chains Chains works out of its world, in the same order, and has the
// same grants.
func TestNewIndexEach(t *testing.T) {
	for _, dir := range []string{"azure-basic", "lighthouse-mg-csp"} {
		data, err := os.ReadFile("testdata/" + dir + "/world.json")
		if err != nil {
			t.Fatal(err)
		}
		doc, err := world.Read(bytes.NewReader(data), dir)
		if err != nil {
			t.Fatal(err)
		}
		var got []Chain
		with, err := NewIndexEach(doc, func(c *Chain) { got = append(got, *c) })
		if err != nil {
			t.Fatal(err)
		}
		want, err := NewIndex(doc)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || !reflect.DeepEqual(got, want.Chains()) ||
			!reflect.DeepEqual(with.scopes, want.scopes) || !reflect.DeepEqual(with.partners, want.partners) {
			t.Errorf("%s: the index built handing out its chains differs (%d chains, want %d)", dir, len(got), len(want.Chains()))
		}
	}
}
