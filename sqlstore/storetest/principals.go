package storetest

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

func oct(day int) time.Time { return time.Date(2026, 10, day, 0, 0, 0, 0, time.UTC) }

// docs/rules.md "Principals: enabled periods": a principal disabled and
// enabled again keeps every enabled period — in the store, in what sign-in
// reads, and in the export, which imports back to the same state.
func testPrincipalPeriods(t *testing.T, s Store) {
	ctx := context.Background()
	Seed(t, s)
	periods := func(p *partnerlink.Principal) []partnerlink.Period { return p.Periods() }
	stored := func() *partnerlink.Principal {
		t.Helper()
		p, err := s.Principal(ctx, TenantA, UserA)
		must(t, err)
		return p
	}

	// Disabled on Oct 10 (as partnerlink principal disable does), enabled
	// again on Oct 20.
	p := stored()
	p.Period.To = oct(10)
	must(t, s.PutPrincipal(ctx, *p))
	got, err := s.EnablePrincipal(ctx, TenantA, UserA, oct(20))
	must(t, err)
	want := []partnerlink.Period{{To: oct(10)}, {From: oct(20)}}
	if !slices.Equal(periods(got), want) {
		t.Errorf("enabled again: periods %v, want %v", periods(got), want)
	}
	p = stored()
	if !slices.Equal(periods(p), want) || p.DisplayName != "ana@wideworld.example" || p.SignInName != "ana@wideworld.example" {
		t.Errorf("stored principal = %+v, want periods %v", p, want)
	}
	for day, active := range map[int]bool{5: true, 10: false, 15: false, 20: true, 25: true} {
		if p.ActiveAt(oct(day)) != active {
			t.Errorf("active on Oct %d = %v, want %v", day, !active, active)
		}
	}

	// Enabling an enabled principal, or enabling before the end of its
	// last period, is refused and changes nothing.
	_, err = s.EnablePrincipal(ctx, TenantA, UserA, oct(30))
	if partnerlink.ErrorCode(err) != partnerlink.ECONFLICT || !strings.Contains(partnerlink.ErrorMessage(err), "is enabled (since 2026-10-20T00:00:00Z)") {
		t.Errorf("enable an enabled principal: %v", err)
	}
	p.Period.To = oct(22)
	must(t, s.PutPrincipal(ctx, *p)) // disabled again on Oct 22
	_, err = s.EnablePrincipal(ctx, TenantA, UserA, oct(21))
	if partnerlink.ErrorCode(err) != partnerlink.EINVALID || !strings.Contains(partnerlink.ErrorMessage(err), "enable it at 2026-10-22T00:00:00Z or later") {
		t.Errorf("enable before the end of the last period: %v", err)
	}
	if _, err := s.EnablePrincipal(ctx, TenantA, "c0ffee00-0000-4000-8000-0000000000ff", oct(30)); partnerlink.ErrorCode(err) != partnerlink.ENOTFOUND {
		t.Errorf("enable an unknown principal: %v", err)
	}

	// Adding it again over its history: inside a period is refused; after
	// the last one, with the same fields, it is enabled again.
	again := partnerlink.Principal{TenantID: TenantA, ObjectID: UserA, Type: partnerlink.PrincipalUser,
		DisplayName: "ana@wideworld.example", Period: partnerlink.Period{From: oct(21)}}
	if err := s.PutPrincipal(ctx, again); partnerlink.ErrorCode(err) != partnerlink.ECONFLICT ||
		!strings.Contains(partnerlink.ErrorMessage(err), "partnerlink principal enable") {
		t.Errorf("add inside a period: %v", err)
	}
	again.Period.From = oct(25)
	must(t, s.PutPrincipal(ctx, again))
	want = []partnerlink.Period{{To: oct(10)}, {From: oct(20), To: oct(22)}, {From: oct(25)}}
	if p := stored(); !slices.Equal(periods(p), want) {
		t.Errorf("added again: periods %v, want %v", periods(p), want)
	}

	// Sign-in lookups and lists carry every period.
	us, err := s.UsersBySignInName(ctx, "ana@wideworld.example")
	must(t, err)
	if len(us) != 1 || !slices.Equal(periods(&us[0]), want) {
		t.Errorf("by sign-in name = %+v", us)
	}
	all, err := s.Principals(ctx, TenantA)
	must(t, err)
	for _, q := range all {
		w := []partnerlink.Period{q.Period}
		if q.ObjectID == UserA {
			w = want
		}
		if !slices.Equal(periods(&q), w) {
			t.Errorf("listed %s with periods %v, want %v", q.ObjectID, periods(&q), w)
		}
	}

	// Export: one entry per period, in order; import gives it back.
	hash := func(secret string) (string, error) { return "hashed:" + secret, nil }
	export := func() []byte {
		t.Helper()
		doc, err := s.ExportWorld(ctx)
		must(t, err)
		var b bytes.Buffer
		must(t, world.Write(&b, doc))
		return b.Bytes()
	}
	first := export()
	doc, err := world.Read(bytes.NewReader(first), "export.json")
	must(t, err)
	var entries []string
	for _, e := range doc.Principals {
		if e.ObjectID == UserA {
			entries = append(entries, fmt.Sprintf("%v-%v", e.From, e.To))
		}
	}
	if len(entries) != 3 || entries[0] != fmt.Sprintf("<nil>-%v", ptr(oct(10))) ||
		entries[1] != fmt.Sprintf("%v-%v", ptr(oct(20)), ptr(oct(22))) || entries[2] != fmt.Sprintf("%v-<nil>", ptr(oct(25))) {
		t.Errorf("exported entries of the principal = %v", entries)
	}
	must(t, s.ImportWorld(ctx, doc, hash))
	if p := stored(); !slices.Equal(periods(p), want) {
		t.Errorf("imported: periods %v, want %v", periods(p), want)
	}
	if second := export(); !bytes.Equal(first, second) {
		t.Errorf("export → import → export differs:\n%s\n---\n%s", first, second)
	}
	// Importing again replaces the earlier periods rather than adding to
	// them.
	must(t, s.ImportWorld(ctx, doc, hash))
	if p := stored(); !slices.Equal(periods(p), want) {
		t.Errorf("imported twice: periods %v, want %v", periods(p), want)
	}

	// Many principals enabled again: a list reads them all.
	var ids []string
	for i := range 12 {
		id := fmt.Sprintf("c0ffee00-0000-4000-8000-0000000001%02d", i)
		ids = append(ids, id)
		must(t, s.PutPrincipal(ctx, partnerlink.Principal{TenantID: TenantB, ObjectID: id, Type: partnerlink.PrincipalServicePrincipal,
			DisplayName: "robot", AppID: AppID, Period: partnerlink.Period{From: oct(1), To: oct(2 + i)}}))
		_, err := s.EnablePrincipal(ctx, TenantB, id, oct(20+i))
		must(t, err)
	}
	for _, tenant := range []string{TenantB, ""} {
		ps, err := s.Principals(ctx, tenant)
		must(t, err)
		n := 0
		for _, q := range ps {
			if i := slices.Index(ids, q.ObjectID); i >= 0 {
				n++
				w := []partnerlink.Period{{From: oct(1), To: oct(2 + i)}, {From: oct(20 + i)}}
				if !slices.Equal(periods(&q), w) {
					t.Errorf("Principals(%q): %s has periods %v, want %v", tenant, q.ObjectID, periods(&q), w)
				}
			}
		}
		if n != len(ids) {
			t.Errorf("Principals(%q) lists %d of the %d principals", tenant, n, len(ids))
		}
	}
}

func ptr(t time.Time) *time.Time { return &t }
