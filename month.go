package partnerlink

import (
	"fmt"
	"time"
)

// Month is a calendar month, counted as year*12 + (month-1), so that months
// compare and subtract as integers and fit compact keys.
type Month int32

// MonthOf returns the month that contains t (in UTC).
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month(t.Year()*12 + int(t.Month()) - 1)
}

// ParseMonth reads YYYY-MM.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return 0, fmt.Errorf("%q is not a month; expected YYYY-MM such as 2026-03", s)
	}
	return MonthOf(t), nil
}

// Start is the first instant of the month.
func (m Month) Start() time.Time {
	return time.Date(int(m)/12, time.Month(int(m)%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// End is the first instant of the next month (the month is [Start, End)).
func (m Month) End() time.Time { return (m + 1).Start() }

// Period is [Start, End).
func (m Month) Period() Period { return Period{From: m.Start(), To: m.End()} }

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", int(m)/12, int(m)%12+1) }

// MonthsIn returns the months whose first day lies in [from, to) (docs/api.md#attribution-csv).
func MonthsIn(from, to time.Time) []Month {
	var out []Month
	m := MonthOf(from)
	if m.Start().Before(from) {
		m++
	}
	for ; m.Start().Before(to); m++ {
		out = append(out, m)
	}
	return out
}
