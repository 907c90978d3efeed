package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// docs/rules.md "Principals: enabled periods": principal disable on Oct 10,
// then principal add --from Oct 20 enables it again and keeps [−∞, Oct 10)
// in the export (it used to replace it); principal enable does the same
// explicitly, and both refuse what would overlap or rewrite history.
func TestPrincipalEnable(t *testing.T) {
	dir := t.TempDir()
	const u = "c1c1c1c1-0000-4000-8000-0000000000e1"
	mustRun(t, dir, "tenant", "add", cT, "--name", "Fabrikam")
	add := []string{"principal", "add", "--tenant", cT, "--object-id", u, "--type", "User", "--display-name", "ana@fabrikam.example"}
	mustRun(t, dir, add...)
	mustRun(t, dir, "principal", "disable", "--tenant", cT, "--object-id", u, "--at", "2026-10-10")
	mustRun(t, dir, append(add, "--from", "2026-10-20")...)

	periods := func() []string {
		t.Helper()
		var doc struct {
			Principals []struct {
				ObjectID string  `json:"objectId"`
				From     *string `json:"from"`
				To       *string `json:"to"`
			} `json:"principals"`
		}
		if err := json.Unmarshal([]byte(mustRun(t, dir, "export")), &doc); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range doc.Principals {
			s := func(v *string) string {
				if v == nil {
					return "null"
				}
				return *v
			}
			out = append(out, s(p.From)+"/"+s(p.To))
		}
		return out
	}
	if got, want := strings.Join(periods(), " "), "null/2026-10-10T00:00:00Z 2026-10-20T00:00:00Z/null"; got != want {
		t.Fatalf("exported periods after disable and add: %s, want %s", got, want)
	}

	// Adding it over its history, or with other fields, is refused.
	if out, err := run(t, dir, append(add, "--from", "2026-10-25")...); err == nil ||
		!strings.Contains(out+err.Error(), "already exists in tenant "+cT+", enabled since 2026-10-20T00:00:00Z") ||
		!strings.Contains(out+err.Error(), "partnerlink principal enable --tenant "+cT+" --object-id "+u) {
		t.Errorf("add over an enabled principal: %v %s", err, out)
	}
	mustRun(t, dir, "principal", "disable", "--tenant", cT, "--object-id", u, "--at", "2026-10-22")
	other := append([]string{}, add...)
	other[len(other)-1] = "ana.r@fabrikam.example"
	if out, err := run(t, dir, append(other, "--from", "2026-10-25")...); err == nil || !strings.Contains(out+err.Error(), `has displayName "ana@fabrikam.example", not "ana.r@fabrikam.example"`) {
		t.Errorf("enable again with another name: %v %s", err, out)
	}

	// principal enable: not before the end of the last period, not twice.
	enable := []string{"principal", "enable", "--tenant", cT, "--object-id", u}
	if out, err := run(t, dir, append(enable, "--from", "2026-10-21")...); err == nil || !strings.Contains(out+err.Error(), "enable it at 2026-10-22T00:00:00Z or later") {
		t.Errorf("enable before the end: %v %s", err, out)
	}
	out := mustRun(t, dir, append(enable, "--from", "2026-10-30")...)
	want := "principal " + u + " of tenant " + cT + " enabled from 2026-10-30T00:00:00Z; enabled periods: [-∞, 2026-10-10T00:00:00Z) [2026-10-20T00:00:00Z, 2026-10-22T00:00:00Z) [2026-10-30T00:00:00Z, ∞)\n"
	if out != want {
		t.Errorf("enable printed %q, want %q", out, want)
	}
	if out, err := run(t, dir, append(enable, "--from", "2026-11-05")...); err == nil || !strings.Contains(out+err.Error(), "is enabled (since 2026-10-30T00:00:00Z)") {
		t.Errorf("enable twice: %v %s", err, out)
	}
	if got, want := strings.Join(periods(), " "), "null/2026-10-10T00:00:00Z 2026-10-20T00:00:00Z/2026-10-22T00:00:00Z 2026-10-30T00:00:00Z/null"; got != want {
		t.Errorf("exported periods: %s, want %s", got, want)
	}
	if out := mustRun(t, dir, "principal", "list", "--tenant", cT); !strings.Contains(out,
		"[-∞, 2026-10-10T00:00:00Z) [2026-10-20T00:00:00Z, 2026-10-22T00:00:00Z) [2026-10-30T00:00:00Z, ∞)") {
		t.Errorf("principal list: %s", out)
	}
}
