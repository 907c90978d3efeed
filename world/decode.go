package world

import (
	"bytes"
	"strings"
	"sync"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// decodeParallel decodes a world document on two cores: the top level is
// read member by member, and the members' values (the role assignments cut
// in two, as they are most of a large document) are decoded and normalized
// (Normalize) by two goroutines with the JSON v2 decoder (github.com/go-json-experiment/json,
// the future encoding/json/v2), about twice as fast as encoding/json. It
// reports false — leaving doc in an unspecified state — on anything
// unusual: a document that is not an object, an unknown or repeated member
// at any level, a member name spelt in another case, invalid UTF-8, a value
// that does not decode, data after the document. The caller then decodes
// the document the ordinary way (encoding/json, which is laxer on names and
// UTF-8), which finds and words any error exactly as before; this path only
// has to agree with that one on the documents it accepts (instants are read
// as encoding/json reads them: v1Times). data must be the caller's own: it
// is changed while the goroutines run, and restored when this declines.
func decodeParallel(data []byte, doc *Document) (ok bool) {
	type job struct {
		raw  []byte
		into any
	}
	// The first goroutine decodes the members before the role assignments
	// while the rest of the document is delimited, then the first half of
	// the role assignments; the second, once the document is delimited,
	// the second half and the members after them.
	first, second := make(chan job, 16), make(chan job, 16)
	var failed [2]bool
	var wg sync.WaitGroup
	for i, jobs := range [2]chan job{first, second} {
		wg.Go(func() {
			for j := range jobs {
				if failed[i] {
					continue // drain
				}
				opts := []jsonv2.Options{jsonv2.RejectUnknownMembers(true)}
				if bytes.IndexByte(j.raw, '\\') >= 0 {
					// Without escapes the v2 decoder reads instants as
					// encoding/json does, and an unmarshaler of our own
					// would be looked up for every value.
					opts = append(opts, v1Times)
				}
				if err := jsonv2.Unmarshal(j.raw, j.into, opts...); err != nil {
					failed[i] = true
					continue
				}
				normalizeSection(j.into)
			}
		})
	}
	stop := sync.OnceFunc(func() {
		close(first)
		close(second)
		wg.Wait()
	})
	var restore func() // puts data back as it was
	defer func() {
		stop()
		if !ok && restore != nil {
			restore()
		}
	}()

	work := 0 // bytes given to the first goroutine, to balance the two
	var later []job
	add := func(raw []byte, into any) {
		if work > len(data)/2 {
			later = append(later, job{raw, into})
			return
		}
		work += len(raw)
		first <- job{raw, into}
	}
	var all, firstHalf, secondHalf []RoleAssignment
	split := false
	cutAt := func(name string) int {
		if name != "roleAssignments" {
			return -1
		}
		// The first goroutine started while the role assignments were
		// being delimited: it takes a tenth of the document more than
		// half (measured on the bench's world: docs/performance.md).
		return len(data)*6/10 - work
	}
	found := func(m member) bool {
		switch m.name {
		case "version":
			return jsonv2.Unmarshal(m.raw, &doc.Version) == nil
		case "roleAssignments":
			if m.cut < 0 {
				add(m.raw, &doc.RoleAssignments)
				return true
			}
			// "[a, b, c, d]" → "[a, b]" and "[c, d]" in place: the first
			// half moves one byte to the left, over the ':' before the
			// array, so that the byte before the comma at cut closes it
			// and the comma opens the second half (copying a half
			// elsewhere would take longer).
			at, cut, colon := m.at, m.cut, data[m.at-1]
			copy(data[at-1:], data[at:at+cut])
			data[at+cut-1], data[at+cut] = ']', '['
			restore = func() {
				copy(data[at:at+cut], data[at-1:at+cut-1])
				data[at-1], data[at+cut] = colon, ','
			}
			// One array for both halves, sized from the first half's
			// count and the second's share of the bytes, so that
			// neither grows and they need no copy into one.
			n, rest := m.before, len(m.raw)-cut
			all = make([]RoleAssignment, 0, n+n*rest/cut+n/16+16)
			firstHalf, secondHalf = all[:0:n], all[n:n]
			first <- job{data[at-1 : at+cut], &firstHalf}
			later = append(later, job{data[at+cut : at+len(m.raw)], &secondHalf})
			work = len(data) // the rest goes to the second goroutine
			split = true
		default:
			field := documentField(doc, m.name)
			if field == nil {
				return false
			}
			add(m.raw, field)
		}
		return true
	}
	if !topLevel(data, cutAt, found) {
		return false
	}
	for _, j := range later {
		second <- j
	}
	stop()
	if failed[0] || failed[1] {
		return false
	}
	if split {
		// "[a,]" and "[,a]" cut into a valid and an empty half: both
		// halves must hold elements for the whole to be an array.
		if len(firstHalf) == 0 || len(secondHalf) == 0 {
			return false
		}
		if n := len(firstHalf); cap(secondHalf) == cap(all)-n && &secondHalf[0] == &all[:n+1][n] {
			doc.RoleAssignments = all[:n+len(secondHalf)]
		} else { // the second half outgrew its room
			doc.RoleAssignments = append(firstHalf, secondHalf...)
		}
	}
	return true
}

// v1Times makes the v2 decoder read instants as encoding/json does, with
// time.Time's UnmarshalJSON on the raw value: v2 would decode escapes
// first ("2026-03-01T00:00:00\u005a" is a valid instant to it), which
// encoding/json refuses. Without escapes both parse the same way (strict
// RFC 3339), and v1Times only costs time: a lookup for every value.
var v1Times = jsonv2.WithUnmarshalers(jsonv2.UnmarshalFromFunc(func(dec *jsontext.Decoder, t *time.Time) error {
	v, err := dec.ReadValue()
	if err != nil {
		return err
	}
	return t.UnmarshalJSON(v)
}))

// member is a top-level member of the document and its value's bytes.
type member struct {
	name string
	raw  []byte
	at   int // where raw starts in the document
	// cut is the index in raw of the first comma between two elements of
	// the array at or after the offset topLevel's cutAt asked for, and
	// before the number of elements before it; cut is -1 when none was
	// asked for or there is none.
	cut, before int
}

// topLevel walks the document's top-level object over its bytes
// (encoding/json would scan the whole document once more just to find its
// members), handing found each member as soon as it is delimited, and
// reports whether the document is one object whose member names are plain
// (no escapes), distinct and exactly spelt, with nothing after it but
// white space, and found took every member. cutAt names, for a member
// name, where in its value to look for a cut (member.cut), or -1. Each
// value is only delimited here; its own decoder checks it.
func topLevel(data []byte, cutAt func(name string) int, found func(member) bool) bool {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	i = skipSpace(data, i+1)
	seen := map[string]bool{}
	for i < len(data) && data[i] != '}' {
		if len(seen) > 0 {
			if data[i] != ',' {
				return false
			}
			i = skipSpace(data, i+1)
		}
		if i >= len(data) || data[i] != '"' {
			return false
		}
		j := bytes.IndexByte(data[i+1:], '"')
		if j < 0 {
			return false
		}
		name := string(data[i+1 : i+1+j])
		if strings.IndexByte(name, '\\') >= 0 || seen[name] {
			return false
		}
		seen[name] = true
		i = skipSpace(data, i+j+2)
		if i >= len(data) || data[i] != ':' {
			return false
		}
		i = skipSpace(data, i+1)
		m := member{name: name, at: i, cut: -1}
		end := -1
		if from := cutAt(name); from >= 0 && i < len(data) && data[i] == '[' {
			end, m.cut, m.before = arrayEnd(data, i, i+from)
		} else {
			end = valueEnd(data, i)
		}
		if end < 0 {
			return false
		}
		m.raw = data[i:end]
		if m.cut >= 0 {
			m.cut -= i
		}
		if !found(m) {
			return false
		}
		i = skipSpace(data, end)
	}
	return i < len(data) && skipSpace(data, i+1) == len(data)
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// valueEnd returns where the JSON value starting at data[i] ends: after
// its closing bracket, brace or quote, or at the first delimiter after a
// scalar; -1 when it does not end. Strings, most of a world document's
// bytes, are skipped with stringEnd.
func valueEnd(data []byte, i int) int {
	depth := 0
	for k := i; k < len(data); k++ {
		switch data[k] {
		case '"':
			k = stringEnd(data, k+1)
			if k < 0 {
				return -1
			}
			if depth == 0 {
				return k + 1
			}
		case '[', '{':
			depth++
		case ']', '}':
			if depth == 0 {
				return k // the end of a scalar before the object's '}'
			}
			depth--
			if depth == 0 {
				return k + 1
			}
		case ',', ' ', '\t', '\n', '\r':
			if depth == 0 {
				return k
			}
		}
	}
	if depth == 0 && len(data) > i {
		return len(data)
	}
	return -1
}

// stringEnd returns the index of the quote that closes the string whose
// contents start at data[start], or -1 when it is not closed: the first
// quote not escaped by an odd run of backslashes.
func stringEnd(data []byte, start int) int {
	for from := start; ; {
		j := bytes.IndexByte(data[from:], '"')
		if j < 0 {
			return -1
		}
		q := from + j
		backslashes := 0
		for p := q - 1; p >= start && data[p] == '\\'; p-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return q
		}
		from = q + 1
	}
}

// documentField returns a pointer to the array field of doc with the exact
// JSON name, or nil.
func documentField(doc *Document, name string) any {
	switch name {
	case "partners":
		return &doc.Partners
	case "tenants":
		return &doc.Tenants
	case "managementGroups":
		return &doc.ManagementGroups
	case "subscriptions":
		return &doc.Subscriptions
	case "principals":
		return &doc.Principals
	case "groupMemberships":
		return &doc.GroupMemberships
	case "roleDefinitions":
		return &doc.RoleDefinitions
	case "delegations":
		return &doc.Delegations
	case "links":
		return &doc.Links
	case "environments":
		return &doc.Environments
	case "powerPlatformResources":
		return &doc.PowerPlatformResources
	case "ownership":
		return &doc.Ownership
	}
	return nil
}

// arrayEnd is valueEnd for the array at data[i], which also returns the
// index of the first comma between two of its elements at or after mark,
// and the number of elements before that comma (cut is -1 when there is
// none). It steps from element to element with valueEnd, so a comma inside
// a string or a nested value is never taken for a separator.
func arrayEnd(data []byte, i, mark int) (end, cut, before int) {
	cut = -1
	n := 0
	k := skipSpace(data, i+1)
	if k < len(data) && data[k] == ']' {
		return k + 1, -1, 0
	}
	for k < len(data) {
		e := valueEnd(data, k)
		if e <= k { // no value here
			return -1, -1, 0
		}
		n++
		k = skipSpace(data, e)
		if k >= len(data) {
			return -1, -1, 0
		}
		switch data[k] {
		case ']':
			return k + 1, cut, before
		case ',':
			if cut < 0 && k >= mark {
				cut, before = k, n
			}
			k = skipSpace(data, k+1)
		default:
			return -1, -1, 0
		}
	}
	return -1, -1, 0
}
