package partnerlink

import (
	"strings"
)

// BuiltinRole is one of the Azure built-in role definitions that exist in
// every tenant without being listed (docs/api.md#world-document). The GUIDs, actions and
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
// tenant, in a fixed order. The slices are fresh copies.
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

// Permits reports whether a role with these actions and notActions allows
// action, as Azure RBAC evaluates it: some action pattern matches and no
// notAction pattern does ("*" matches any text; case-insensitive).
func Permits(actions, notActions []string, action string) bool {
	action = strings.ToLower(action)
	allowed := false
	for _, a := range actions {
		if globMatch(strings.ToLower(a), action) {
			allowed = true
			break
		}
	}
	if !allowed {
		return false
	}
	for _, n := range notActions {
		if globMatch(strings.ToLower(n), action) {
			return false
		}
	}
	return true
}
