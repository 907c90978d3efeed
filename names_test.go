package partnerlink

import (
	"strings"
	"testing"
)

// docs/rules.md#names-and-ids: Power Platform ids.
func TestCheckPowerPlatformID(t *testing.T) {
	for _, id := range []string{"env-prod", "Default-0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", "app_1.v2", strings.Repeat("a", MaxIDLength)} {
		if err := CheckPowerPlatformID(id); err != nil {
			t.Errorf("%q refused: %v", id, err)
		}
	}
	for _, id := range []string{"", strings.Repeat("a", MaxIDLength+1), "a b", `"><img src=x>`, "env\x00", "env/x", "é"} {
		if err := CheckPowerPlatformID(id); err == nil {
			t.Errorf("%q accepted", id)
		}
	}
}

// docs/rules.md#names-and-ids: role definition names.
func TestCheckName(t *testing.T) {
	for _, n := range []string{"Ops", "<b>Ops</b>", "Lecteur de coûts", strings.Repeat("x", MaxNameLength)} {
		if err := CheckName(n); err != nil {
			t.Errorf("%q refused: %v", n, err)
		}
	}
	for _, n := range []string{"", "   ", "a\nb", "a\x00", "tab\there", strings.Repeat("x", MaxNameLength+1), "\xff"} {
		if err := CheckName(n); err == nil {
			t.Errorf("%q accepted", n)
		}
	}
}
