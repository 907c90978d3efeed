package partnerlink

import "testing"

func TestPermits(t *testing.T) {
	const write = "Microsoft.Authorization/roleAssignments/write"
	for _, tt := range []struct {
		role   string
		action string
		want   bool
	}{
		{"Owner", write, true},
		{"User Access Administrator", write, true},
		{"Contributor", write, false}, // notActions Microsoft.Authorization/*/Write
		{"Contributor", "Microsoft.Resources/subscriptions/resourceGroups/write", true},
		{"Reader", write, false},
		{"Reader", "Microsoft.Authorization/roleAssignments/read", true},
		{"Cost Management Reader", "Microsoft.CostManagement/query/read", true},
		{"Billing Reader", write, false},
	} {
		r, ok := LookupBuiltinRole(tt.role)
		if !ok {
			t.Fatalf("no built-in %s", tt.role)
		}
		if got := Permits(r.Actions, r.NotActions, tt.action); got != tt.want {
			t.Errorf("%s permits %s = %v, want %v", tt.role, tt.action, got, tt.want)
		}
	}
}
