package partnerlink

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func oct(day int) time.Time { return time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC) }

const (
	tenantT = "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"
	objectO = "c0ffee00-0000-4000-8000-000000000001"
)

func ana(per Period, earlier ...Period) Principal {
	return Principal{TenantID: tenantT, ObjectID: objectO, Type: PrincipalUser, DisplayName: "ana@fabrikam.example",
		Period: per, Earlier: earlier}
}

// docs/rules.md "Principals: enabled periods": a principal disabled on Oct
// 10 and enabled again on Oct 20 is enabled before Oct 10 and from Oct 20,
// not in between.
func TestActiveAtEveryPeriod(t *testing.T) {
	p := ana(Period{From: oct(20)}, Period{From: oct(1), To: oct(10)})
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{oct(1), true}, {oct(5), true}, {oct(10), false}, {oct(15), false}, {oct(20), true}, {oct(25), true},
		{time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), false},
	} {
		if got := p.ActiveAt(tc.at); got != tc.want {
			t.Errorf("ActiveAt(%s) = %v, want %v", tc.at.Format(time.DateOnly), got, tc.want)
		}
	}
	if got, want := p.Periods(), []Period{{From: oct(1), To: oct(10)}, {From: oct(20)}}; !slices.Equal(got, want) {
		t.Errorf("Periods() = %v, want %v", got, want)
	}
}

func TestEnableAgain(t *testing.T) {
	disabled := ana(Period{From: oct(1), To: oct(10)})
	cases := []struct {
		name     string
		p        Principal
		from     time.Time
		want     Principal
		code     string
		contains string
	}{
		{name: "a new period after the gap", p: disabled, from: oct(20),
			want: ana(Period{From: oct(20)}, Period{From: oct(1), To: oct(10)})},
		{name: "at the very instant it was disabled: the period goes on", p: disabled, from: oct(10),
			want: ana(Period{From: oct(1)})},
		{name: "a third period keeps both earlier ones", p: ana(Period{From: oct(20), To: oct(22)}, Period{From: oct(1), To: oct(10)}), from: oct(25),
			want: ana(Period{From: oct(25)}, Period{From: oct(1), To: oct(10)}, Period{From: oct(20), To: oct(22)})},
		{name: "enabled: nothing to enable", p: ana(Period{From: oct(1)}), from: oct(20), code: ECONFLICT,
			contains: "principal c0ffee00-0000-4000-8000-000000000001 of tenant 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60 is enabled (since 2026-10-01T00:00:00Z); only a disabled principal can be enabled again"},
		{name: "before the end of the last period", p: disabled, from: oct(9), code: EINVALID,
			contains: "from 2026-10-09T00:00:00Z is before the end of principal c0ffee00-0000-4000-8000-000000000001's last enabled period (from 2026-10-01T00:00:00Z until 2026-10-10T00:00:00Z); its enabled periods must not overlap, so enable it at 2026-10-10T00:00:00Z or later"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.p.EnableAgain(tc.from)
			if tc.code != "" {
				if ErrorCode(err) != tc.code || ErrorMessage(err) != tc.contains {
					t.Fatalf("err = %s %q, want %s %q", ErrorCode(err), ErrorMessage(err), tc.code, tc.contains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Periods(), tc.want.Periods()) {
				t.Errorf("periods = %v, want %v", got.Periods(), tc.want.Periods())
			}
		})
	}
	// The receiver's earlier periods are not shared with the result.
	p := ana(Period{From: oct(20), To: oct(22)}, Period{From: oct(1), To: oct(10)})
	p.Earlier = slices.Grow(p.Earlier, 4)
	if _, err := p.EnableAgain(oct(25)); err != nil || len(p.Earlier) != 1 || p.Period != (Period{From: oct(20), To: oct(22)}) {
		t.Errorf("EnableAgain changed its receiver: %v %v", p.Periods(), err)
	}
}

// docs/rules.md "Principals: enabled periods": adding a principal that
// exists keeps its history — it updates the fields of its latest period,
// enables it again, or is refused.
func TestReplaceKeepsHistory(t *testing.T) {
	disabled := ana(Period{From: oct(1), To: oct(10)})
	renamed := disabled
	renamed.DisplayName = "ana.r@fabrikam.example"
	cases := []struct {
		name     string
		cur      Principal
		next     Principal
		want     Principal
		code     string
		contains []string
	}{
		{name: "same period, new name", cur: ana(Period{From: oct(1)}), next: func() Principal {
			p := ana(Period{From: oct(1)})
			p.DisplayName = "x"
			return p
		}(), want: func() Principal {
			p := ana(Period{From: oct(1)})
			p.DisplayName = "x"
			return p
		}()},
		{name: "disable by setting the end", cur: ana(Period{From: oct(1)}), next: disabled, want: disabled},
		{name: "the same again", cur: disabled, next: disabled, want: disabled},
		{name: "earlier periods stay when the fields change", cur: ana(Period{From: oct(20)}, Period{From: oct(1), To: oct(10)}),
			next: ana(Period{From: oct(20), To: oct(30)}), want: ana(Period{From: oct(20), To: oct(30)}, Period{From: oct(1), To: oct(10)})},
		{name: "added again after the disable: enabled again", cur: disabled, next: ana(Period{From: oct(20)}),
			want: ana(Period{From: oct(20)}, Period{From: oct(1), To: oct(10)})},
		{name: "added again with an end too", cur: disabled, next: ana(Period{From: oct(20), To: oct(25)}),
			want: ana(Period{From: oct(20), To: oct(25)}, Period{From: oct(1), To: oct(10)})},
		{name: "added again where it ended: the period goes on", cur: disabled, next: ana(Period{From: oct(10)}),
			want: ana(Period{From: oct(1)})},
		{name: "reopening a disabled period", cur: disabled, next: ana(Period{From: oct(1)}), code: ECONFLICT,
			contains: []string{"was disabled at 2026-10-10T00:00:00Z", "partnerlink principal enable --tenant " + tenantT + " --object-id " + objectO + " --from INSTANT",
				"POST /api/v1/admin/tenants/" + tenantT + "/principals/" + objectO + "/enable"}},
		{name: "another start while enabled", cur: ana(Period{From: oct(1)}), next: ana(Period{From: oct(20)}), code: ECONFLICT,
			contains: []string{"already exists in tenant " + tenantT + ", enabled since 2026-10-01T00:00:00Z", "partnerlink principal disable", "partnerlink principal enable"}},
		{name: "a start inside the last period", cur: disabled, next: ana(Period{From: oct(5)}), code: ECONFLICT,
			contains: []string{"(from 2026-10-01T00:00:00Z until 2026-10-10T00:00:00Z); a new enabled period must start at 2026-10-10T00:00:00Z or later"}},
		{name: "since always over a disabled one", cur: disabled, next: ana(Period{}), code: ECONFLICT,
			contains: []string{"must start at 2026-10-10T00:00:00Z or later"}},
		{name: "enabled again with another name", cur: renamed, next: ana(Period{From: oct(20)}), code: ECONFLICT,
			contains: []string{`has displayName "ana.r@fabrikam.example", not "ana@fabrikam.example"; enabling it again keeps its fields`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Replace(tc.cur, tc.next)
			if tc.code != "" {
				if ErrorCode(err) != tc.code {
					t.Fatalf("err = %v, want %s", err, tc.code)
				}
				for _, c := range tc.contains {
					if !strings.Contains(ErrorMessage(err), c) {
						t.Errorf("message %q lacks %q", ErrorMessage(err), c)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.DisplayName != tc.want.DisplayName || !slices.Equal(got.Periods(), tc.want.Periods()) {
				t.Errorf("got %s %v, want %s %v", got.DisplayName, got.Periods(), tc.want.DisplayName, tc.want.Periods())
			}
		})
	}
}

func TestDifferingField(t *testing.T) {
	a := ana(Period{})
	b := a
	if f, _, _ := DifferingField(a, b); f != "" {
		t.Errorf("equal records differ in %s", f)
	}
	b.SignInName = a.DisplayName // a user's sign-in name defaults to its display name
	if f, _, _ := DifferingField(a, b); f != "" {
		t.Errorf("default sign-in name differs in %s", f)
	}
	b.CSPDelegated = true
	if f, x, y := DifferingField(a, b); f != "cspDelegated" || x != "false" || y != "true" {
		t.Errorf("DifferingField = %s %s %s", f, x, y)
	}
}
