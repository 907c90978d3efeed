package world

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"sync"
)

// decodeParallel decodes a world document on two cores: the top level is
// read member by member, and the members' values (the role assignments cut
// in two, as they are most of a large document) are decoded by two
// goroutines. It reports false — leaving doc in an unspecified state — on
// anything unusual: a document that is not an object, an unknown or
// repeated top-level member, a value that does not decode, data after the
// document. The caller then decodes the document the ordinary way, which
// finds and words the error exactly as before; this path only has to be
// right for valid documents.
func decodeParallel(data []byte, doc *Document) bool {
	members, ok := topLevel(data)
	if !ok {
		return false
	}
	type job struct {
		raw  io.Reader
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
		jobs[i] = append(jobs[i], job{bytes.NewReader(raw), into})
	}
	var firstHalf, secondHalf []RoleAssignment
	split := false
	for _, m := range members {
		switch m.name {
		case "version":
			if err := json.Unmarshal(m.raw, &doc.Version); err != nil {
				return false
			}
		case "roleAssignments":
			cut := arrayMiddle(m.raw)
			if cut < 0 {
				add(m.raw, &doc.RoleAssignments)
				continue
			}
			// "[a, b, c, d]" → "[a, b]" and "[c, d]".
			jobs[0] = append(jobs[0], job{io.MultiReader(bytes.NewReader(m.raw[:cut]), strings.NewReader("]")), &firstHalf})
			jobs[1] = append(jobs[1], job{io.MultiReader(strings.NewReader("["), bytes.NewReader(m.raw[cut+1:])), &secondHalf})
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
				dec := json.NewDecoder(j.raw)
				dec.DisallowUnknownFields()
				if err := dec.Decode(j.into); err != nil || dec.More() {
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
// scalar; -1 when it does not end.
func valueEnd(data []byte, i int) int {
	depth, inString, escaped := 0, false, false
	for k := i; k < len(data); k++ {
		c := data[k]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return k + 1
				}
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			if depth == 0 {
				return k // the end of a scalar before the object's '}'
			}
			depth--
			if depth == 0 {
				return k + 1
			}
		case depth == 0 && (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			return k
		}
	}
	if depth == 0 && !inString && len(data) > i {
		return len(data)
	}
	return -1
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
