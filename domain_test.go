package partnerlink

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// docs/rules.md#identifiers-and-time: GUIDs compared case-insensitively, written lower-case.
func TestParseGUID(t *testing.T) {
	g, err := ParseGUID("tenant", "0B5E2F7A-8C1D-4E3F-9A0B-1C2D3E4F5A60")
	if err != nil || g != "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60" {
		t.Errorf("ParseGUID = %q, %v", g, err)
	}
	for _, bad := range []string{"", "0b5e2f7a8c1d4e3f9a0b1c2d3e4f5a60", "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a6", "zb5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60"} {
		if _, err := ParseGUID("tenant", bad); ErrorCode(err) != EINVALID {
			t.Errorf("ParseGUID(%q) = %v, want EINVALID", bad, err)
		}
	}
}

// docs/rules.md#identifiers-and-time: partner IDs are 1 to 10 decimal digits, rejected before any lookup.
func TestValidatePartnerID(t *testing.T) {
	for _, ok := range []string{"1", "123456", "1234567", "1234567890"} {
		if err := ValidatePartnerID(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "12345678901", "12a4", " 123", "-1", "１２３"} {
		if err := ValidatePartnerID(bad); ErrorCode(err) != EINVALID {
			t.Errorf("%q accepted", bad)
		}
	}
}

// docs/rules.md#identifiers-and-time: periods are half-open; a missing to means still in force; two
// periods overlap when a.from < b.to && b.from < a.to.
func TestPeriods(t *testing.T) {
	d := func(day int) time.Time { return time.Date(2026, 3, day, 0, 0, 0, 0, time.UTC) }
	p := Period{From: d(2), To: d(4)}
	if !p.Contains(d(2)) || p.Contains(d(4)) || p.Contains(d(1)) {
		t.Error("Contains is not [from, to)")
	}
	if !(Period{From: d(2)}).Contains(d(28)) || !(Period{}).Contains(d(1)) {
		t.Error("open periods")
	}
	cases := []struct {
		a, b Period
		want bool
	}{
		{p, Period{From: d(4), To: d(5)}, false}, // touching is not overlapping
		{p, Period{From: d(3), To: d(5)}, true},
		{p, Period{From: d(1), To: d(2)}, false},
		{p, Period{}, true},
		{Period{From: d(5)}, Period{To: d(5)}, false},
	}
	for _, c := range cases {
		if c.a.Overlaps(c.b) != c.want || c.b.Overlaps(c.a) != c.want {
			t.Errorf("%v overlaps %v: want %v", c.a, c.b, c.want)
		}
	}
	if !(Period{From: d(1)}).Covers(p) || p.Covers(Period{From: d(2)}) || !p.Covers(p) {
		t.Error("Covers")
	}
	if i, ok := p.Intersect(Period{From: d(3)}); !ok || !i.From.Equal(d(3)) || !i.To.Equal(d(4)) {
		t.Errorf("Intersect = %v %v", i, ok)
	}
	if _, ok := p.Intersect(Period{From: d(4)}); ok {
		t.Error("empty intersection reported non-empty")
	}
}

// docs/rules.md#identifiers-and-time, docs/rules.md#scopes: scopes compared case-insensitively with a trailing "/"
// ignored, keeping the input's casing; containment by path.
func TestScopes(t *testing.T) {
	const sub = "/subscriptions/9D8C7B6A-5F4E-4D3C-8B2A-190807060504"
	cases := []struct {
		in   string
		kind ScopeKind
	}{
		{"/", ScopeRoot},
		{"/providers/Microsoft.Management/managementGroups/Prod", ScopeManagementGroup},
		{sub + "/", ScopeSubscription},
		{sub + "/resourceGroups/Web", ScopeResourceGroup},
		{sub + "/resourceGroups/Web/providers/Microsoft.Web/sites/shop", ScopeResource},
		{sub + "/resourceGroups/Web/providers/Microsoft.Web/sites/shop/slots/staging", ScopeResource},
		{sub + "/providers/Microsoft.Security/pricings/default", ScopeResource},
	}
	for _, c := range cases {
		s, err := ParseScope(c.in)
		if err != nil || s.Kind != c.kind {
			t.Errorf("ParseScope(%q) = %v %v, want %v", c.in, s.Kind, err, c.kind)
		}
	}
	s, _ := ParseScope(sub + "/resourceGroups/Web/")
	if s.Raw != sub+"/resourceGroups/Web" || s.Key != "/subscriptions/9d8c7b6a-5f4e-4d3c-8b2a-190807060504/resourcegroups/web" {
		t.Errorf("raw/key = %q %q", s.Raw, s.Key)
	}
	child, _ := ParseScope(sub + "/RESOURCEGROUPS/web/providers/Microsoft.Web/sites/shop/slots/staging")
	if !s.Contains(child) || child.Contains(s) {
		t.Error("resource group must contain its nested child resource")
	}
	other, _ := ParseScope(sub + "/resourceGroups/Web2")
	if s.Contains(other) {
		t.Error("rg web contains rg web2 by prefix")
	}
	for _, bad := range []string{"", "subscriptions/x", "/subscriptions/not-a-guid", sub + "/resourceGroups", sub + "/resourceGroups/a/providers/ns/type", "/providers/Microsoft.Management/managementGroups/"} {
		if _, err := ParseScope(bad); ErrorCode(err) != EINVALID {
			t.Errorf("ParseScope(%q) accepted", bad)
		}
	}
}

func TestGUIDBytes(t *testing.T) {
	g, ok := ParseGUIDBytes([]byte("0B5E2F7A-8c1d-4e3f-9a0b-1c2d3e4f5a60"))
	if !ok || g.String() != "0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60" {
		t.Errorf("ParseGUIDBytes = %v %v", g, ok)
	}
	if s, ok := ParseGUIDBytes("0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a6g"); ok {
		t.Errorf("non-hex accepted: %v", s)
	}
	// Every byte, as the first and the last digit: only hex digits parse,
	// to their value.
	for c := range 256 {
		want, isHex := strconv.ParseUint(string(rune(c)), 16, 8)
		for _, at := range []int{0, 35} {
			b := []byte("00000000-0000-0000-0000-000000000000")
			b[at] = byte(c)
			g, ok := ParseGUIDBytes(b)
			if ok != (isHex == nil && c < 0x80) {
				t.Fatalf("byte %#x at %d: ok = %v", c, at, ok)
			}
			got := uint64(g[0] >> 4)
			if at == 35 {
				got = uint64(g[15] & 0x0f)
			}
			if ok && got != want {
				t.Fatalf("byte %#x at %d: value %d, want %d", c, at, got, want)
			}
		}
	}
}

func TestNewGUID(t *testing.T) {
	seen := map[GUID]bool{}
	for range 1000 {
		g := NewGUID()
		if seen[g] {
			t.Fatalf("NewGUID repeated %s", g)
		}
		seen[g] = true
		s := g.String()
		if !IsGUID(s) || s[14] != '4' || !strings.ContainsRune("89ab", rune(s[19])) {
			t.Fatalf("NewGUID() = %s: want a version 4, RFC 9562 variant GUID", s)
		}
	}
}
