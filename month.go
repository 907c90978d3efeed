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

// ParseMonth reads YYYY-MM, a month of the years MinYear to MaxYear.
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil || len(s) != 7 {
		return 0, fmt.Errorf("%q is not a month; expected YYYY-MM such as 2026-03", s)
	}
	if err := CheckYear(s, t); err != nil {
		return 0, err
	}
	return MonthOf(t), nil
}

// The years whose months and days the API and the CLI accept: every
// period they make of one (up to a month later) can still be written as
// an RFC 3339 time, which ends at the year 9999.
const (
	MinYear = 1900
	MaxYear = 9998
)

// CheckYear refuses a month or day s (read as t) outside MinYear to
// MaxYear.
func CheckYear(s string, t time.Time) error {
	if y := t.Year(); y < MinYear || y > MaxYear {
		return fmt.Errorf("%q is out of range; months and days of the years %d to %d are accepted", s, MinYear, MaxYear)
	}
	return nil
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
