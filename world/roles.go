package world

import (
	"unicode"
	"unicode/utf8"

	"github.com/partnerlink/partnerlink"
)

// Role is a role definition resolved from a document: a listed custom role
// or a built-in one.
type Role struct {
	Name     string
	ID       string
	CanWrite bool
}

// ResolveRole finds the role a role assignment or delegation of tenant
// names, by name or GUID (case-insensitively): a custom role of that
// tenant, a role listed without a tenant, then a built-in role. A custom
// role of another tenant is never found (docs/rules.md, "Role definitions
// and management groups"). For many lookups, use NewRoleIndex.
func ResolveRole(doc *Document, tenant, ref string) (Role, bool) {
	return NewRoleIndex(doc).Resolve(tenant, ref)
}

// RoleIndex resolves role references of one document, per tenant, as
// ResolveRole does, with a map lookup or two each.
type RoleIndex struct {
	// roles maps a tenant ("" for the roles of every tenant) to the fold
	// keys (appendFoldKey) of its roles' names and GUIDs. Two levels, so
	// that a lookup by a []byte key does not build a string.
	roles map[string]map[string]Role
}

// NewRoleIndex indexes the roles of doc. Later changes to doc are not seen.
func NewRoleIndex(doc *Document) *RoleIndex {
	x := &RoleIndex{roles: map[string]map[string]Role{}}
	add := func(tenant, ref string, r Role) {
		tenant = partnerlink.ToLower(tenant)
		m := x.roles[tenant]
		if m == nil {
			m = map[string]Role{}
			x.roles[tenant] = m
		}
		k := string(appendFoldKey(nil, ref))
		if _, taken := m[k]; !taken { // the first listed wins
			m[k] = r
		}
	}
	for _, d := range doc.RoleDefinitions {
		r := Role{Name: d.Name, ID: partnerlink.ToLower(d.ID), CanWrite: partnerlink.CanWrite(d.Actions, d.NotActions)}
		add(d.TenantID, d.Name, r)
		add(d.TenantID, d.ID, r)
	}
	for _, b := range partnerlink.BuiltinRoles() {
		r := Role{Name: b.Name, ID: b.ID, CanWrite: partnerlink.CanWrite(b.Actions, b.NotActions)}
		add("", b.Name, r)
		add("", b.ID, r)
	}
	return x
}

// Resolve finds the role ref names in tenant: a custom role of the tenant,
// else a role of every tenant (listed without a tenant, or built in).
func (x *RoleIndex) Resolve(tenant, ref string) (Role, bool) {
	var buf [64]byte
	key := appendFoldKey(buf[:0], ref)
	if tenant != "" {
		if r, ok := x.roles[partnerlink.ToLower(tenant)][string(key)]; ok {
			return r, true
		}
	}
	r, ok := x.roles[""][string(key)]
	return r, ok
}

// tenantOf returns a tenant that has a custom role ref names, for
// messages; "" when none has.
func (x *RoleIndex) tenantOf(ref string) string {
	key := appendFoldKey(nil, ref)
	var found string
	for t, m := range x.roles {
		if _, ok := m[string(key)]; ok && t != "" && (found == "" || t < found) {
			found = t
		}
	}
	return found
}

// appendFoldKey appends a key of s to dst such that two strings have the
// same key exactly when strings.EqualFold finds them equal: each rune is
// replaced by the least rune of its Unicode case-folding orbit (so "k",
// "K" and the Kelvin sign share one), and invalid UTF-8 reads as U+FFFD, as
// in EqualFold. strings.ToLower would not do: it maps "İ" to "i", which
// EqualFold keeps apart.
func appendFoldKey(dst []byte, s string) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			// The orbit of an ASCII letter is its two cases (and for k and
			// s a non-ASCII rune); the upper case is the least.
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		dst = utf8.AppendRune(dst, least)
		i += n
	}
	return dst
}
