package partnerlink

import (
	"strings"
	"testing"
)

// parseScopeSplit is ParseScope as it was written before it stopped
// splitting the scope into a slice; the two must agree on every input.
func parseScopeSplit(s string) (Scope, error) {
	raw := s
	if raw != "/" {
		raw = strings.TrimSuffix(raw, "/")
	}
	key := strings.ToLower(raw)
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
	parts := strings.Split(key[1:], "/")
	for _, p := range parts {
		if p == "" {
			return bad("it has an empty segment")
		}
	}
	if parts[0] != "subscriptions" || len(parts) < 2 {
		return bad("it is neither the root, a management group nor under /subscriptions")
	}
	if !IsGUID(parts[1]) {
		return bad("the subscription id is not a GUID")
	}
	sc := Scope{Raw: raw, Key: key, Subscription: parts[1], Kind: ScopeSubscription}
	rest := parts[2:]
	if len(rest) == 0 {
		return sc, nil
	}
	if rest[0] == "resourcegroups" {
		if len(rest) < 2 {
			return bad("resourceGroups has no name")
		}
		sc.ResourceGroup = rest[1]
		sc.Kind = ScopeResourceGroup
		rest = rest[2:]
		if len(rest) == 0 {
			return sc, nil
		}
	}
	if rest[0] != "providers" || len(rest) < 4 || (len(rest)-4)%2 != 0 {
		return bad("a resource id continues with /providers/{namespace}/{type}/{name}")
	}
	sc.Kind = ScopeResource
	return sc, nil
}

func FuzzParseScopeAsBefore(f *testing.F) {
	const sub = "/subscriptions/9C406475-3584-4259-8c6e-115b6395d173"
	for _, s := range []string{
		"", "/", "//", "///", "x", "/x", "/x/", "/x//y", "subscriptions",
		"/subscriptions", "/subscriptions/", "/subscriptions//", "/subscriptions/nope",
		sub, sub + "/", sub + "//", sub + "/resourceGroups", sub + "/resourceGroups/",
		sub + "/resourceGroups/rg", sub + "/resourceGroups/RG/", sub + "/resourceGroups//x",
		sub + "/resourceGroups/rg/providers", sub + "/resourceGroups/rg/providers/Microsoft.Web/sites",
		sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/shop",
		sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/shop/slots",
		sub + "/resourceGroups/rg/providers/Microsoft.Web/sites/shop/slots/staging",
		sub + "/resourceGroups/rg/Providers/Microsoft.Web/sites/shop/slots/staging/",
		sub + "/providers/Microsoft.Capacity/reservations/r1", sub + "/providers/x/y",
		sub + "/resourcegroups", sub + "/other/thing", sub + "/resourceGroups/rg/other/a/b/c",
		"/providers/Microsoft.Management/managementGroups/", "/providers/Microsoft.Management/managementGroups/Mg-1",
		"/providers/Microsoft.Management/managementGroups/a/b", "/providers/Microsoft.Management/managementGroups/a/",
		"/providers/Microsoft.Management/managementGroups", "/providers/Microsoft.Web/sites/x",
		"/SUBSCRIPTIONS/9C406475-3584-4259-8C6E-115B6395D173/RESOURCEGROUPS/WEB", "/subscriptions/\u0130/x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, gotErr := ParseScope(s)
		want, wantErr := parseScopeSplit(s)
		if got != want || (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
			t.Fatalf("ParseScope(%q) = %+v, %v; before: %+v, %v", s, got, gotErr, want, wantErr)
		}
	})
}
