package attribution

import (
	"cmp"
	"hash/fnv"
	"strings"

	"github.com/partnerlink/partnerlink/focus"
)

// A run splits into partitions by subscription (docs/scale.md): every
// scope that holds a resource lies in its subscription or expands per
// subscription, so all rows of one resource fall in one bucket and each
// bucket's credits are final on their own. Merged, the partitions' credits
// and tallies are the run's, whatever the number of buckets.

// BucketOf is the bucket of subscription sub among buckets (FNV-1a of its
// 16 bytes): stable across versions and machines, as the usage store's
// layout depends on it.
func BucketOf(sub focus.GUID, buckets int) int {
	if buckets <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write(sub[:])
	return int(h.Sum32() % uint32(buckets))
}

// CompareCredits orders credits as a Result lists them: partner (then
// organization) key, tenant, subscription, resource id as written,
// currency.
func CompareCredits(a, b *Credit) int {
	return cmp.Or(strings.Compare(a.PartnerID, b.PartnerID), strings.Compare(a.TenantID, b.TenantID),
		strings.Compare(a.SubAccountID, b.SubAccountID), strings.Compare(a.ResourceID, b.ResourceID),
		strings.Compare(a.BillingCurrency, b.BillingCurrency))
}

// Merge makes one Result of the results of a run's partitions: their
// credits, in a Result's order, and their tallies added. Partitions do not
// share a resource (they are buckets of subscriptions); credits with the
// same key in several (the per-partner totals of Run.Beside) are added up.
func Merge(parts []*Result) *Result {
	sums := make([]Summary, len(parts))
	n := 0
	for i, p := range parts {
		sums[i] = p.Summary
		n += p.Len()
	}
	sum := MergeSummaries(sums)
	// Each part's credits are in order already: merge them, k ways.
	lists := make([][]Credit, 0, len(parts))
	for _, p := range parts {
		if p.Len() > 0 {
			lists = append(lists, p.Credits())
		}
	}
	credits := make([]Credit, 0, n)
	// A heap of the lists by their first credit: log k comparisons a
	// credit rather than k (16 partitions and more).
	less := func(i, j int) bool { return CompareCredits(&lists[i][0], &lists[j][0]) < 0 }
	down := func(i int) {
		for {
			m := i
			if l := 2*i + 1; l < len(lists) && less(l, m) {
				m = l
			}
			if r := 2*i + 2; r < len(lists) && less(r, m) {
				m = r
			}
			if m == i {
				return
			}
			lists[i], lists[m] = lists[m], lists[i]
			i = m
		}
	}
	for i := len(lists)/2 - 1; i >= 0; i-- {
		down(i)
	}
	for len(lists) > 0 {
		if c := &lists[0][0]; len(credits) > 0 && CompareCredits(&credits[len(credits)-1], c) == 0 {
			last := &credits[len(credits)-1]
			last.AttributedCost = plus(last.AttributedCost, c.AttributedCost)
			last.IncentiveEligibleCost = plus(last.IncentiveEligibleCost, c.IncentiveEligibleCost)
			last.AttributedCostInUSD = plus(last.AttributedCostInUSD, c.AttributedCostInUSD)
			last.UsageRows += c.UsageRows
			last.UsageRowsInUSD += c.UsageRowsInUSD
		} else {
			credits = append(credits, *c)
		}
		if lists[0] = lists[0][1:]; len(lists[0]) == 0 {
			lists[0] = lists[len(lists)-1]
			lists = lists[:len(lists)-1]
		}
		down(0)
	}
	return &Result{Summary: sum, fixed: credits}
}

// MergeSummaries adds up the summaries of a run's parts: their tallies,
// and the rows read as the sum of theirs.
func MergeSummaries(parts []Summary) Summary {
	sum := Summary{}
	t := newTallies()
	for i, p := range parts {
		if i == 0 {
			sum.ChargeCategory, sum.CostColumn = p.ChargeCategory, p.CostColumn
		}
		for _, x := range []struct{ dst, src *Tally }{{&t.credited, &p.Credited}, {&t.noPartner, &p.NoPartner},
			{&t.unknownSubscription, &p.UnknownSubscription}, {&t.outOfPeriod, &p.OutOfPeriod},
			{&t.otherCategory, &p.OtherCategory}} {
			x.dst.merge(x.src)
		}
	}
	sum.Credited, sum.NoPartner, sum.UnknownSubscription, sum.OutOfPeriod, sum.OtherCategory =
		t.credited, t.noPartner, t.unknownSubscription, t.outOfPeriod, t.otherCategory
	sum.Read = Tally{Amounts: map[string]*focus.Sum{}}
	for _, x := range []*Tally{&t.credited, &t.noPartner, &t.unknownSubscription, &t.outOfPeriod, &t.otherCategory} {
		sum.Read.merge(x)
	}
	return sum
}

// ResultOf is a Result holding credits already in a Result's order (a
// partition's, read back from where a worker stored it).
func ResultOf(sum Summary, credits []Credit) *Result {
	return &Result{Summary: sum, fixed: credits}
}

// plus is a + b in a new sum: the parts' sums may share a decimal, which
// adding in place would change.
func plus(a, b focus.Sum) focus.Sum {
	var s focus.Sum
	s.AddSum(a)
	s.AddSum(b)
	return s
}
