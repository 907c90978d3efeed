package world

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// BuiltinRole is one of the Azure built-in role definitions that exist in
// every world without being listed (docs/api.md#world-document). The GUIDs, actions and
// notActions are Azure's own, so that role definitions served by the ARM API
// and roles named in imported documents mean what they mean in Azure.
type BuiltinRole struct {
	Name       string
	ID         string
	Actions    []string
	NotActions []string
}

// builtinRoles is the table behind BuiltinRoles; copied on each call so that
// callers cannot change it.
var builtinRoles = []BuiltinRole{
	{
		Name:    "Owner",
		ID:      "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
		Actions: []string{"*"},
	},
	{
		Name:    "Contributor",
		ID:      "b24988ac-6180-42a0-ab88-20f7382dd24c",
		Actions: []string{"*"},
		NotActions: []string{
			"Microsoft.Authorization/*/Delete",
			"Microsoft.Authorization/*/Write",
			"Microsoft.Authorization/elevateAccess/Action",
			"Microsoft.Blueprint/blueprintAssignments/write",
			"Microsoft.Blueprint/blueprintAssignments/delete",
			"Microsoft.Compute/galleries/share/action",
			"Microsoft.Purview/consents/write",
			"Microsoft.Purview/consents/delete",
			"Microsoft.Resources/deploymentStacks/manageDenySetting/action",
		},
	},
	{
		Name:    "Reader",
		ID:      "acdd72a7-3385-48ef-bd42-f606fba81ae7",
		Actions: []string{"*/read"},
	},
	{
		Name:    "User Access Administrator",
		ID:      "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
		Actions: []string{"*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"},
	},
	{
		Name: "Cost Management Reader",
		ID:   "72fafb9e-0641-4937-9268-a91bfd8191a3",
		Actions: []string{
			"Microsoft.Consumption/*/read",
			"Microsoft.CostManagement/*/read",
			"Microsoft.Billing/billingPeriods/read",
			"Microsoft.Resources/subscriptions/read",
			"Microsoft.Resources/subscriptions/resourceGroups/read",
			"Microsoft.Support/*",
			"Microsoft.Advisor/configurations/read",
			"Microsoft.Advisor/recommendations/read",
			"Microsoft.Management/managementGroups/read",
			"Microsoft.Billing/billingProperty/read",
		},
	},
	{
		Name: "Billing Reader",
		ID:   "fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64",
		Actions: []string{
			"Microsoft.Authorization/*/read",
			"Microsoft.Billing/*/read",
			"Microsoft.Commerce/*/read",
			"Microsoft.Consumption/*/read",
			"Microsoft.Management/managementGroups/read",
			"Microsoft.CostManagement/*/read",
			"Microsoft.Support/*",
		},
	},
}

// BuiltinRoles returns Azure's built-in role definitions known to every
// world, in a fixed order. The slices are fresh copies.
func BuiltinRoles() []BuiltinRole {
	out := make([]BuiltinRole, len(builtinRoles))
	for i, r := range builtinRoles {
		out[i] = BuiltinRole{
			Name:       r.Name,
			ID:         r.ID,
			Actions:    append([]string{}, r.Actions...),
			NotActions: append([]string{}, r.NotActions...),
		}
	}
	return out
}

// LookupBuiltinRole finds a built-in role by name or GUID, case-insensitively.
func LookupBuiltinRole(ref string) (BuiltinRole, bool) {
	for _, r := range builtinRoles {
		if strings.EqualFold(r.Name, ref) || strings.EqualFold(r.ID, ref) {
			return r, true
		}
	}
	return BuiltinRole{}, false
}

// CanWrite reports whether a role with these actions and notActions can
// write, which makes its credit incentive-eligible (docs/rules.md,
// "Incentive eligibility"): some action is "*", or does not end in "/read"
// and is not under "Microsoft.Support/" (opening support requests does not
// manage resources), and that action is not wholly removed by a notAction.
// Data actions never count and are not taken.
//
// An action is wholly removed when some notAction, read as a pattern where
// "*" matches any text, matches the action's own text (so notAction
// "Microsoft.Support/*" removes action "Microsoft.Support/*", and "*" removes
// everything, while Contributor's "Microsoft.Authorization/*/Write" does not
// remove "*"). Matching is case-insensitive, as Azure's is.
//
// So Owner, Contributor and User Access Administrator can write; Reader,
// Cost Management Reader and Billing Reader (whose only non-read action is
// "Microsoft.Support/*") cannot.
func CanWrite(actions, notActions []string) bool {
	for _, a := range actions {
		if !isWriteAction(a) {
			continue
		}
		removed := false
		for _, n := range notActions {
			if globMatch(strings.ToLower(n), strings.ToLower(a)) {
				removed = true
				break
			}
		}
		if !removed {
			return true
		}
	}
	return false
}

func isWriteAction(a string) bool {
	a = strings.TrimSpace(a)
	if a == "" {
		return false
	}
	l := strings.ToLower(a)
	return a == "*" || !strings.HasSuffix(l, "/read") && !strings.HasPrefix(l, "microsoft.support/")
}

// globMatch reports whether pattern (where "*" matches any run of
// characters, including none) matches s in full.
func globMatch(pattern, s string) bool {
	// Iterative wildcard matching with backtracking to the last star.
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

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
		tenant = strings.ToLower(tenant)
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
		r := Role{Name: d.Name, ID: strings.ToLower(d.ID), CanWrite: CanWrite(d.Actions, d.NotActions)}
		add(d.TenantID, d.Name, r)
		add(d.TenantID, d.ID, r)
	}
	for _, b := range builtinRoles {
		r := Role{Name: b.Name, ID: b.ID, CanWrite: CanWrite(b.Actions, b.NotActions)}
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
		if r, ok := x.roles[strings.ToLower(tenant)][string(key)]; ok {
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
