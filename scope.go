package partnerlink

import (
	"strings"
)

// ScopeKind orders scopes from the outermost (tenant root) inwards (docs/rules.md#scopes).
type ScopeKind int

const (
	ScopeRoot ScopeKind = iota + 1
	ScopeManagementGroup
	ScopeSubscription
	ScopeResourceGroup
	ScopeResource
)

func (k ScopeKind) String() string {
	switch k {
	case ScopeRoot:
		return "tenant root"
	case ScopeManagementGroup:
		return "management group"
	case ScopeSubscription:
		return "subscription"
	case ScopeResourceGroup:
		return "resource group"
	case ScopeResource:
		return "resource"
	}
	return "unknown"
}

// Scope is a parsed ARM scope. Raw keeps the input's casing (without a
// trailing "/"); Key is the lower-cased form used for comparison.
type Scope struct {
	Kind            ScopeKind
	Raw             string
	Key             string
	ManagementGroup string // lower-cased name, for ScopeManagementGroup
	Subscription    string // lower-cased GUID, for subscription and below
	ResourceGroup   string // lower-cased name, for resource group and below
}

const mgPrefix = "/providers/microsoft.management/managementgroups/"

// ParseScope parses an ARM scope or resource id. Scopes are compared
// case-insensitively and a single trailing "/" is ignored (docs/rules.md#identifiers-and-time, docs/rules.md#scopes).
func ParseScope(s string) (Scope, error) {
	raw := s
	if raw != "/" {
		raw = strings.TrimSuffix(raw, "/")
	}
	key := ToLower(raw)
	bad := func(why string) (Scope, error) {
		return Scope{}, Errorf(EINVALID, "scope %q is not valid: %s; expected \"/\", /providers/Microsoft.Management/managementGroups/{name}, /subscriptions/{guid}, /subscriptions/{guid}/resourceGroups/{name} or a resource id below it", s, why)
	}
	if key == "/" || key == "" {
		if key == "" {
			return bad("it is empty")
		}
		return Scope{Kind: ScopeRoot, Raw: "/", Key: "/"}, nil
	}
	if !strings.HasPrefix(key, "/") {
		return bad("it does not start with /")
	}
	if strings.HasPrefix(key, mgPrefix) {
		name := key[len(mgPrefix):]
		if name == "" || strings.Contains(name, "/") {
			return bad("a management group scope names exactly one group")
		}
		return Scope{Kind: ScopeManagementGroup, Raw: raw, Key: key, ManagementGroup: name}, nil
	}
	// The segments are taken one by one with Cut rather than split into a
	// slice: scopes are parsed for every role assignment of a world.
	path := key[1:]
	if path[0] == '/' || path[len(path)-1] == '/' || strings.Contains(path, "//") {
		return bad("it has an empty segment")
	}
	first, rest, ok := strings.Cut(path, "/")
	if first != "subscriptions" || !ok {
		return bad("it is neither the root, a management group nor under /subscriptions")
	}
	subID, rest, ok := strings.Cut(rest, "/")
	if !IsGUID(subID) {
		return bad("the subscription id is not a GUID")
	}
	sc := Scope{Raw: raw, Key: key, Subscription: subID, Kind: ScopeSubscription}
	if !ok {
		return sc, nil
	}
	if seg, after, more := strings.Cut(rest, "/"); seg == "resourcegroups" {
		if !more {
			return bad("resourceGroups has no name")
		}
		sc.ResourceGroup, rest, more = strings.Cut(after, "/")
		sc.Kind = ScopeResourceGroup
		if !more {
			return sc, nil
		}
	}
	// A resource: providers/{ns}/{type}/{name} then pairs of {childType}/{childName}.
	n := strings.Count(rest, "/") + 1
	if seg, _, _ := strings.Cut(rest, "/"); seg != "providers" || n < 4 || (n-4)%2 != 0 {
		return bad("a resource id continues with /providers/{namespace}/{type}/{name}")
	}
	sc.Kind = ScopeResource
	return sc, nil
}

// Contains reports whether s contains t by path: s is t or an ancestor of t
// inside one subscription. Management groups and the tenant root need the
// subscription's place in the tenant's tree, which the caller resolves (see
// attribution); here they contain nothing but themselves.
func (s Scope) Contains(t Scope) bool {
	if s.Key == t.Key {
		return true
	}
	if s.Kind < ScopeSubscription || t.Kind < ScopeSubscription {
		return false
	}
	return strings.HasPrefix(t.Key, s.Key+"/")
}
