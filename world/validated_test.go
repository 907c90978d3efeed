package world_test

import (
	"bytes"
	"os"
	"slices"
	"testing"

	"github.com/partnerlink/partnerlink/world"
)

// A document is known to be valid only as Read returned it: built in code,
// copied by Canonical, or with an array replaced or grown it must be
// validated again.
func TestValidated(t *testing.T) {
	in, err := os.ReadFile("testdata/full-unsorted.json")
	if err != nil {
		t.Fatal(err)
	}
	read := func() *world.Document {
		doc, err := world.Read(bytes.NewReader(in), "full-unsorted.json")
		if err != nil {
			t.Fatal(err)
		}
		return doc
	}
	if doc := read(); !world.Validated(doc) {
		t.Error("a document as Read returned it is not Validated")
	}
	changes := map[string]func(d *world.Document){
		"appended to": func(d *world.Document) {
			d.RoleAssignments = append(d.RoleAssignments, world.RoleAssignment{Scope: "nope"})
		},
		"resliced":       func(d *world.Document) { d.Links = d.Links[1:] },
		"shortened":      func(d *world.Document) { d.Ownership = d.Ownership[:1] },
		"replaced":       func(d *world.Document) { d.Principals = slices.Clone(d.Principals) },
		"emptied":        func(d *world.Document) { d.Tenants = nil },
		"version":        func(d *world.Document) { d.Version = 2 },
		"made canonical": func(d *world.Document) { *d = *world.Canonical(d) },
	}
	for name, change := range changes {
		doc := read()
		change(doc)
		if world.Validated(doc) {
			t.Errorf("%s: still Validated", name)
		}
	}
	// Validate checks, but does not mark: only Read does.
	doc := &world.Document{Version: world.CurrentVersion}
	if err := world.Validate(doc); err != nil {
		t.Fatal(err)
	}
	if world.Validated(doc) {
		t.Error("a document built in code is Validated")
	}
}
