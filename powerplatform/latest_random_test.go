package powerplatform_test

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/partnerlink/partnerlink"
	pp "github.com/partnerlink/partnerlink/powerplatform"
)

// TestLatestPartnerRandom is a self-check of the latest-partner rule
// (docs/rules.md, "Power Platform latest partner") on 500 random worlds,
// made to tie often: four owners of one canvas app, each linked to one of
// four partner IDs through one or two periods (contiguous, so the chain's
// start is the link's creation, or after a gap, so the later start is), and
// active on a few possible days. An oracle written from the rule alone
// picks the winner: the latest activity, then the link created most recently
// among the principals with that activity, then the lowest partner ID.
func TestLatestPartnerRandom(t *testing.T) {
	users := []string{user1, user2, user3, user4}
	partners := []string{p1, p2, p3, "999"}
	days := []string{"2026-02-20", "2026-03-05", "2026-03-05", "2026-03-20", "2026-03-31", "2026-04-01"}
	starts := []string{"2026-01-05", "2026-01-20", "2026-02-01", "2026-02-10"}
	ties := 0
	for seed := range 500 {
		rnd := rand.New(rand.NewPCG(uint64(seed), 12))
		var own []pp.OwnershipRecord
		var links []partnerlink.Link
		var rows []string
		partnerOf := map[string]string{}
		created := map[string]time.Time{} // the creation of each user's link in force in March
		last := map[string]time.Time{}    // each user's latest activity by the end of March
		for i, u := range users {
			role := pp.RoleCoOwner
			if i == 0 {
				role = pp.RoleOwner
			}
			own = append(own, own1("app", u, role))
			last[u] = instant("2026-01-01") // being made owner is activity
			if rnd.IntN(5) == 0 {
				continue // not linked
			}
			p := partners[rnd.IntN(len(partners))]
			partnerOf[u] = p
			s1 := starts[rnd.IntN(len(starts))]
			switch rnd.IntN(3) {
			case 0: // one period
				links = append(links, link(u, p, s1, ""))
				created[u] = instant(s1)
			case 1: // two periods in one unbroken chain: created at the first start
				links = append(links, link(u, p, s1, "2026-02-15"), link(u, p, "2026-02-15", ""))
				created[u] = instant(s1)
			default: // a gap: the link in force was created at its own start
				links = append(links, link(u, p, s1, "2026-02-12"), link(u, p, "2026-02-14", ""))
				created[u] = instant("2026-02-14")
			}
			for range rnd.IntN(3) {
				d := days[rnd.IntN(len(days))]
				rows = append(rows, d+",app,"+u+",Edit")
				if at := instant(d); at.Before(instant("2026-04-01")) && at.After(last[u]) {
					last[u] = at
				}
			}
		}
		rows = append(rows, "2026-03-15,app,"+sp1+",Use") // a user who owns nothing

		// The oracle, from the rule alone.
		want, wantLast, wantCreated, tied := "", time.Time{}, time.Time{}, false
		for _, p := range partners {
			var la, cr time.Time
			for _, u := range users {
				if partnerOf[u] == p && last[u].After(la) {
					la = last[u]
				}
			}
			if la.IsZero() {
				continue // no linked principal
			}
			for _, u := range users {
				if partnerOf[u] == p && last[u].Equal(la) && created[u].After(cr) {
					cr = created[u]
				}
			}
			better := want == "" || la.After(wantLast) ||
				la.Equal(wantLast) && (cr.After(wantCreated) || cr.Equal(wantCreated) && lowerPartnerID(p, want))
			if want != "" && la.Equal(wantLast) {
				tied = true
			}
			if better {
				want, wantLast, wantCreated = p, la, cr
			}
		}
		if tied {
			ties++
		}
		in := withResource(pp.CanvasApp, "app", own, links)
		in.Partners = append(in.Partners, partnerlink.Partner{ID: "999", Period: period("2020-01-01", "")})
		got := creditsOf(t, in, activityOf(t, rows, nil))
		var wantLines []string
		if want != "" {
			wantLines = []string{want + " app MAU 1"}
		}
		if !slices.Equal(got, wantLines) {
			t.Fatalf("seed %d: credits %v, want %v\nlinks %v\nactivity %v", seed, got, wantLines, links, rows)
		}
	}
	if ties < 100 {
		t.Errorf("only %d of 500 random worlds had a tie on the latest activity", ties)
	}
}

func own1(res, principal string, role pp.Role) pp.OwnershipRecord {
	return own(res, principal, role, "2026-01-01", "")
}

// lowerPartnerID orders partner IDs as numbers.
func lowerPartnerID(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}
