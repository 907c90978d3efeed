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
// in two, as they are most of a large document) are decoded by two
// goroutines with the JSON v2 decoder (github.com/go-json-experiment/json,
// the future encoding/json/v2), about twice as fast as encoding/json. It
// reports false — leaving doc in an unspecified state — on anything
// unusual: a document that is not an object, an unknown or repeated member
// at any level, a member name spelt in another case, invalid UTF-8, a value
// that does not decode, data after the document. The caller then decodes
// the document the ordinary way (encoding/json, which is laxer on names and
// UTF-8), which finds and words any error exactly as before; this path only
// has to agree with that one on the documents it accepts (instants are read
// as encoding/json reads them: v1Times). data must be the caller's own: it
// is changed while the goroutines run and restored before this returns.
func decodeParallel(data []byte, doc *Document) bool {
	members, ok := topLevel(data)
	if !ok {
		return false
	}
	type job struct {
		raw  []byte
		into any
	}
	var jobs [2][]job
	work := 0 // bytes given to jobs[0], to balance the two
	add := func(raw []byte, into any) {
		i := 0
		if work > len(data)/2 {
			i = 1
		}
		if i == 0 {
			work += len(raw)
		}
		jobs[i] = append(jobs[i], job{raw, into})
	}
	var firstHalf, secondHalf []RoleAssignment
	split := false
	for _, m := range members {
		switch m.name {
		case "version":
			if err := jsonv2.Unmarshal(m.raw, &doc.Version); err != nil {
				return false
			}
		case "roleAssignments":
			cut := arrayMiddle(m.raw)
			if cut < 0 {
				add(m.raw, &doc.RoleAssignments)
				continue
			}
			// "[a, b, c, d]" → "[a, b]" and "[c, d]": the comma at cut
			// becomes the first half's closing bracket (put back below),
			// the second half is copied behind an opening one.
			second := make([]byte, 0, len(m.raw)-cut)
			second = append(append(second, '['), m.raw[cut+1:]...)
			m.raw[cut] = ']'
			defer func(b []byte) { b[0] = ',' }(m.raw[cut:])
			jobs[0] = append(jobs[0], job{m.raw[:cut+1], &firstHalf})
			jobs[1] = append(jobs[1], job{second, &secondHalf})
			work += cut
			split = true
		default:
			field := documentField(doc, m.name)
			if field == nil {
				return false
			}
			add(m.raw, field)
		}
	}
	var failed [2]bool
	var wg sync.WaitGroup
	for i := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, j := range jobs[i] {
				if err := jsonv2.Unmarshal(j.raw, j.into, jsonv2.RejectUnknownMembers(true), v1Times); err != nil {
					failed[i] = true
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed[0] || failed[1] {
		return false
	}
	if split {
		// "[a,]" and "[,a]" cut into a valid and an empty half: both
		// halves must hold elements for the whole to be an array.
		if len(firstHalf) == 0 || len(secondHalf) == 0 {
			return false
		}
		doc.RoleAssignments = append(firstHalf, secondHalf...)
	}
	return true
}

// v1Times makes the v2 decoder read instants as encoding/json does, with
// time.Time's UnmarshalJSON on the raw value: v2 would decode escapes
// first ("2026-03-01T00:00:00\u005a" is a valid instant to it), which
// encoding/json refuses.
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
}

// topLevel splits the document's top-level object into members with a
// walk over the bytes (encoding/json would scan the whole document once
// more just to find them). It reports false for anything but one object
// whose member names are plain (no escapes), distinct and exactly spelt,
// and nothing after it but white space. Each value is only delimited here;
// its own decoder checks it.
func topLevel(data []byte) ([]member, bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	i = skipSpace(data, i+1)
	var members []member
	seen := map[string]bool{}
	for i < len(data) && data[i] != '}' {
		if len(members) > 0 {
			if data[i] != ',' {
				return nil, false
			}
			i = skipSpace(data, i+1)
		}
		if i >= len(data) || data[i] != '"' {
			return nil, false
		}
		j := bytes.IndexByte(data[i+1:], '"')
		if j < 0 {
			return nil, false
		}
		name := string(data[i+1 : i+1+j])
		if strings.IndexByte(name, '\\') >= 0 || seen[name] {
			return nil, false
		}
		seen[name] = true
		i = skipSpace(data, i+j+2)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		end := valueEnd(data, i)
		if end < 0 {
			return nil, false
		}
		members = append(members, member{name, data[i:end]})
		i = skipSpace(data, end)
	}
	if i >= len(data) || skipSpace(data, i+1) != len(data) {
		return nil, false
	}
	return members, true
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

// arrayMiddle returns the index in raw (a JSON array) of the comma between
// two elements nearest after the middle, or -1 when there is none. It steps
// from element to element with valueEnd, so a comma inside a string or a
// nested value is never taken for a separator.
func arrayMiddle(raw []byte) int {
	if len(raw) == 0 || raw[0] != '[' {
		return -1
	}
	for i := skipSpace(raw, 1); i < len(raw) && raw[i] != ']'; {
		end := valueEnd(raw, i)
		if end < 0 {
			return -1
		}
		i = skipSpace(raw, end)
		if i >= len(raw) || raw[i] != ',' {
			return -1
		}
		if i >= len(raw)/2 {
			return i
		}
		i = skipSpace(raw, i+1)
	}
	return -1
}
