package focus

import (
	"bytes"
	"time"

	"github.com/partnerlink/partnerlink"
)

// timeCache remembers the last instant parsed from a column: usage files
// repeat the same charge period on thousands of consecutive rows.
type timeCache struct {
	text []byte
	t    time.Time
}

func (c *timeCache) parse(b []byte) (time.Time, bool) {
	if len(c.text) > 0 && bytes.Equal(b, c.text) {
		return c.t, true
	}
	t, ok := parseTime(b)
	if ok {
		c.text = append(c.text[:0], b...)
		c.t = t
	}
	return t, ok
}

// parseTime reads an instant: RFC 3339 ("2026-03-01T00:00:00Z", fractions
// and offsets allowed), the same with a space for the "T", or a bare date
// ("2026-03-01", midnight UTC). A date and time without a zone is taken as
// UTC, which FOCUS prescribes. The result is in UTC.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) < 10 || b[4] != '-' || b[7] != '-' {
		return time.Time{}, false
	}
	y, ok1 := atoi(b[0:4])
	mo, ok2 := atoi(b[5:7])
	d, ok3 := atoi(b[8:10])
	if !ok1 || !ok2 || !ok3 || mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo) {
		return time.Time{}, false
	}
	if len(b) == 10 {
		return time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC), true
	}
	if len(b) < 19 || (b[10] != 'T' && b[10] != 't' && b[10] != ' ') || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	h, ok1 := atoi(b[11:13])
	mi, ok2 := atoi(b[14:16])
	s, ok3 := atoi(b[17:19])
	if !ok1 || !ok2 || !ok3 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	rest := b[19:]
	ns := 0
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		scale := 100000000
		for ; i < len(rest) && rest[i] >= '0' && rest[i] <= '9'; i++ {
			if scale == 0 {
				// Finer than a nanosecond: not representable exactly.
				return time.Time{}, false
			}
			ns += int(rest[i]-'0') * scale
			scale /= 10
		}
		if i == 1 {
			return time.Time{}, false
		}
		rest = rest[i:]
	}
	off := 0
	switch {
	case len(rest) == 0, len(rest) == 1 && (rest[0] == 'Z' || rest[0] == 'z'):
	case len(rest) == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':':
		oh, ok1 := atoi(rest[1:3])
		om, ok2 := atoi(rest[4:6])
		if !ok1 || !ok2 || oh > 23 || om > 59 {
			return time.Time{}, false
		}
		off = oh*3600 + om*60
		if rest[0] == '-' {
			off = -off
		}
	default:
		return time.Time{}, false
	}
	t := time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	if off != 0 {
		t = t.Add(-time.Duration(off) * time.Second)
	}
	return t, true
}

func atoi(b []byte) (int, bool) {
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// parseSubAccount reads SubAccountId: "/subscriptions/{guid}" (any case,
// an optional trailing "/") or a bare GUID.
func parseSubAccount(b []byte) (GUID, bool) {
	const prefix = "/subscriptions/"
	if len(b) > len(prefix) && b[0] == '/' {
		if !bytes.EqualFold(b[:len(prefix)], []byte(prefix)) {
			return GUID{}, false
		}
		b = b[len(prefix):]
		if n := len(b); n > 0 && b[n-1] == '/' {
			b = b[:n-1]
		}
	}
	return parseGUID(b)
}

// subTexts remembers the last few SubAccountId texts and their GUIDs:
// rows of a subscription follow each other, but exports write it in
// several spellings (with and without the path, in either case), so one
// remembered text missed on most rows.
type subTexts struct {
	texts [4][]byte
	guids [4]GUID
	next  int // the entry to replace
}

// parse is parseSubAccount(b), from memory when b was seen lately.
func (c *subTexts) parse(b []byte) (GUID, bool) {
	for i := range c.texts {
		if bytes.Equal(b, c.texts[i]) && c.texts[i] != nil {
			return c.guids[i], true
		}
	}
	g, ok := parseSubAccount(b)
	if ok {
		i := c.next
		c.texts[i], c.guids[i] = append(c.texts[i][:0], b...), g
		c.next = (i + 1) % len(c.texts)
	}
	return g, ok
}

var subscriptionsPrefix = []byte("/subscriptions/")

// resourceSubscription returns the subscription segment of a resource id
// that starts with "/subscriptions/" (any case): the text up to the next
// "/". ok is false for an id outside any subscription's path (empty, or a
// reservation or marketplace id such as "/providers/…").
func resourceSubscription(id []byte) (seg []byte, ok bool) {
	if len(id) < len(subscriptionsPrefix) || id[0] != '/' || !bytes.EqualFold(id[:len(subscriptionsPrefix)], subscriptionsPrefix) {
		return nil, false
	}
	seg = id[len(subscriptionsPrefix):]
	if i := bytes.IndexByte(seg, '/'); i >= 0 {
		seg = seg[:i]
	}
	return seg, true
}

// subCheck checks that a row's resource lies in its own subscription
// (docs/rules.md, "Usage input"): a ResourceId under /subscriptions/{guid}
// must name the row's SubAccountId. It remembers the last segment that
// matched, so that the rows of one subscription cost a comparison of a
// few dozen bytes and no GUID parsing or allocation.
type subCheck struct {
	seg []byte // the last subscription segment that matched sub
	sub GUID
}

// check returns the resource id's subscription segment and whether the row
// is consistent. A row without a resource id, or with one outside any
// subscription's path, is.
func (c *subCheck) check(id []byte, sub GUID) (seg []byte, ok bool) {
	// Most rows spell the prefix as written here and follow a row of their
	// subscription: their segment is the one that matched last.
	if n, p := len(c.seg), len(subscriptionsPrefix); n > 0 && sub == c.sub && len(id) >= p+n &&
		string(id[:p]) == string(subscriptionsPrefix) && string(id[p:p+n]) == string(c.seg) && (len(id) == p+n || id[p+n] == '/') {
		return id[p : p+n], true
	}
	seg, has := resourceSubscription(id)
	if !has {
		return nil, true
	}
	if len(c.seg) > 0 && sub == c.sub && bytes.Equal(seg, c.seg) {
		return seg, true
	}
	if g, ok := parseGUID(seg); !ok || g != sub {
		return seg, false
	}
	c.seg = append(c.seg[:0], seg...)
	c.sub = sub
	return seg, true
}

// subMismatch is the error for a row whose resource is in another
// subscription than its SubAccountId; where is "name line N" or "name row N".
func subMismatch(where string, id, seg, subAccount []byte) error {
	if len(seg) == 0 {
		seg = []byte(`""`)
	}
	return partnerlink.Errorf(partnerlink.EINVALID, "%s: %s %q names subscription %s but %s is %s; a row's resource must be in its own subscription",
		where, ColResourceID, id, seg, ColSubAccountID, subAccount)
}
