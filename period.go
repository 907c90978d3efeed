package partnerlink

import "time"

// Period is a half-open validity interval [From, To). A zero From means
// "since always"; a zero To means "still in force" (docs/rules.md#identifiers-and-time).
type Period struct {
	From time.Time
	To   time.Time
}

// Open reports whether the period has no end.
func (p Period) Open() bool { return p.To.IsZero() }

// Contains reports whether instant t lies in [From, To).
func (p Period) Contains(t time.Time) bool {
	return (p.From.IsZero() || !t.Before(p.From)) && (p.To.IsZero() || t.Before(p.To))
}

// Overlaps reports whether p and q share an instant: a.from < b.to && b.from < a.to.
func (p Period) Overlaps(q Period) bool {
	return before(p.From, q.To) && before(q.From, p.To)
}

// Covers reports whether p contains the whole of q.
func (p Period) Covers(q Period) bool {
	fromOK := p.From.IsZero() || (!q.From.IsZero() && !q.From.Before(p.From))
	toOK := p.To.IsZero() || (!q.To.IsZero() && !q.To.After(p.To))
	return fromOK && toOK
}

// Intersect returns p ∩ q and whether it is non-empty.
func (p Period) Intersect(q Period) (Period, bool) {
	r := p
	if !q.From.IsZero() && (r.From.IsZero() || q.From.After(r.From)) {
		r.From = q.From
	}
	if !q.To.IsZero() && (r.To.IsZero() || q.To.Before(r.To)) {
		r.To = q.To
	}
	return r, !r.Empty()
}

// Empty reports whether the period contains no instant.
func (p Period) Empty() bool {
	return !p.From.IsZero() && !p.To.IsZero() && !p.From.Before(p.To)
}

// before is a < b where a zero a is -infinity and a zero b is +infinity.
func before(a, b time.Time) bool {
	if a.IsZero() || b.IsZero() {
		return true
	}
	return a.Before(b)
}

// PeriodOf turns a from/to pair of optional instants (as documents and
// request bodies carry them) into a Period: nil is an open end.
func PeriodOf(from, to *time.Time) Period {
	var p Period
	if from != nil {
		p.From = *from
	}
	if to != nil {
		p.To = *to
	}
	return p
}

// TimesOf is PeriodOf the other way round.
func TimesOf(p Period) (from, to *time.Time) {
	if !p.From.IsZero() {
		f := p.From
		from = &f
	}
	if !p.To.IsZero() {
		t := p.To
		to = &t
	}
	return from, to
}
