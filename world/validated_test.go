package world_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
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

// ValidateVariant: a Validated document with other partners and links is
// checked for what links rely on and marked valid; with any other array
// changed, it is checked whole.
func TestValidateVariant(t *testing.T) {
	base := readTestWorld(t, "full-unsorted.json")
	i := slices.IndexFunc(base.Principals, func(p world.Principal) bool { return p.Type == "User" && !p.CSPDelegated })
	if i < 0 {
		t.Fatal("the test world has no user")
	}
	p := base.Principals[i]
	variant := func(link world.Link) *world.Document {
		d := *base
		d.Partners = append(slices.Clone(base.Partners), world.Partner{PartnerID: "9999000000", Name: "unlinked", HomeTenantIDs: []string{}})
		d.Links = []world.Link{link}
		return &d
	}
	good := variant(world.Link{TenantID: p.TenantID, ObjectID: p.ObjectID, PartnerID: "9999000000"})
	if err := world.ValidateVariant(good, base); err != nil || !world.Validated(good) {
		t.Fatalf("a valid variant: %v (Validated %v)", err, world.Validated(good))
	}
	bad := variant(world.Link{TenantID: p.TenantID, ObjectID: "0f0f0f0f-0000-4000-8000-000000000000", PartnerID: "9999000000"})
	if err := world.ValidateVariant(bad, base); err == nil || !strings.Contains(err.Error(), "links[0].objectId") || world.Validated(bad) {
		t.Errorf("a link to an unknown principal: %v", err)
	}
	// Another array changed: the whole document is checked.
	whole := variant(world.Link{TenantID: p.TenantID, ObjectID: p.ObjectID, PartnerID: "9999000000"})
	whole.RoleAssignments = append(slices.Clone(base.RoleAssignments), world.RoleAssignment{TenantID: p.TenantID, ID: "nope", Scope: "nope"})
	if err := world.ValidateVariant(whole, base); err == nil || !strings.Contains(err.Error(), "roleAssignments[") {
		t.Errorf("a variant with a bad role assignment: %v", err)
	}
	// A base not known to be valid (built in code), whose variant shares
	// its bad role assignment: the whole document is checked.
	plain := world.Canonical(base)
	plain.RoleAssignments = slices.Clone(plain.RoleAssignments)
	plain.RoleAssignments[0].Scope = "nope"
	shared := *plain
	shared.Links = good.Links
	if err := world.ValidateVariant(&shared, plain); err == nil || !strings.Contains(err.Error(), "roleAssignments[0]") {
		t.Errorf("a variant of a base not Validated: %v", err)
	}
}

// readTestWorld reads testdata/name with world.Read.
func readTestWorld(t *testing.T, name string) *world.Document {
	t.Helper()
	in, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := world.Read(bytes.NewReader(in), name)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}
