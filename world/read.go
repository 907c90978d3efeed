package world

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/partnerlink/partnerlink"
)

// Read decodes a world document strictly (an unknown field is an error that
// names it; the version must be 1), normalizes it (GUIDs lower-cased,
// instants in UTC) and validates it. name is the document's file name, used
// in error messages. The document is marked as valid (Validated), so that
// building an attribution index of it does not validate it again.
func Read(r io.Reader, name string) (*Document, error) {
	doc, err := Decode(r, name)
	if err != nil {
		return nil, err
	}
	if err := Check(doc, name); err != nil {
		return nil, err
	}
	return doc, nil
}

// Decode is Read without the validation: the document is decoded strictly
// and normalized, and the caller must Check it before trusting it (the
// attribution index does that while it builds, on another core).
func Decode(r io.Reader, name string) (*Document, error) {
	data, err := readAll(r)
	if err != nil {
		return nil, fmt.Errorf("read world document %s: %w", name, err)
	}
	var doc Document
	parallel := decodeParallel(data, &doc) // normalized as it is decoded
	if !parallel {
		// Not a plain valid document: decode it on one core, which words
		// any error.
		doc = Document{}
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil {
			var perr *time.ParseError
			if errors.As(err, &perr) {
				// encoding/json does not say where the instant is.
				if serr := strictDecode(data); serr != nil {
					err = serr
				}
			}
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "world document %s: %s", name, describeJSONError(data, err))
		}
		if dec.More() {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "world document %s: unexpected data after the document's closing brace", name)
		}
		// encoding/json takes the last of a repeated member, matches names
		// in any case and replaces bytes that are not UTF-8: the document
		// is read strictly all the same (docs/api.md#world-document).
		if err := strictDecode(data); err != nil {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "world document %s: %s", name, describeJSONError(data, err))
		}
	}
	if doc.Version != CurrentVersion {
		return nil, partnerlink.Errorf(partnerlink.EINVALID, "world document %s: version is %d; this program reads version %d only (\"version\": %d)", name, doc.Version, CurrentVersion, CurrentVersion)
	}
	if !parallel {
		Normalize(&doc)
	}
	return &doc, nil
}

// Check validates a document that Decode returned, with Read's error
// message, and marks it as valid (Validated) when it is.
func Check(doc *Document, name string) error {
	if err := Validate(doc); err != nil {
		return partnerlink.Errorf(partnerlink.EINVALID, "world document %s: %s", name, partnerlink.ErrorMessage(err))
	}
	s := shapeOf(doc)
	doc.read = &s
	return nil
}

// readAll is io.ReadAll with the buffer sized up front when r is a file:
// growing it step by step to a document of tens of megabytes copies and
// clears it over and over.
func readAll(r io.Reader) ([]byte, error) {
	size := 512
	if f, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < math.MaxInt32 {
			size = int(fi.Size()) + 1 // + 1: room to see io.EOF without growing
		}
	} else if b, ok := r.(interface{ Len() int }); ok {
		size = b.Len() + 1 // bytes in memory (a bytes.Reader)
	}
	b := make([]byte, 0, size)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // let append pick the larger size
		}
	}
}

// describeJSONError turns a decoding error into a message with the line and
// column where it happened.
func describeJSONError(data []byte, err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var strict *strictError
	switch {
	case errors.As(err, &strict):
		return describeStrictError(data, strict.err)
	case errors.As(err, &syn):
		line, col := lineCol(data, syn.Offset)
		return fmt.Sprintf("line %d column %d: %v", line, col, syn)
	case errors.As(err, &typ):
		line, col := lineCol(data, typ.Offset)
		field := typ.Field
		if field == "" {
			field = "value"
		}
		return fmt.Sprintf("line %d column %d: %s must be a JSON %s, not %s", line, col, field, jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		if msg, ok := unknownField(data); ok {
			return msg
		}
		f := strings.TrimPrefix(err.Error(), "json: unknown field ")
		return fmt.Sprintf("unknown field %s; the fields of each element are those of docs/api.md#world-document (check spelling and case)", f)
	case errors.Is(err, io.EOF):
		return "the document is empty; expected a JSON object with \"version\": 1"
	case errors.Is(err, io.ErrUnexpectedEOF):
		line, _ := lineCol(data, int64(len(data)))
		return fmt.Sprintf("the document ends early at byte %d (line %d): an object, array or string is not closed; the file is truncated or was not completely written", len(data), line)
	}
	var perr *time.ParseError
	if errors.As(err, &perr) {
		return fmt.Sprintf("instant %q is not RFC 3339 (expected for example \"2026-03-01T00:00:00Z\")", perr.Value)
	}
	return err.Error()
}

// strictDecode decodes data as the parallel decode does (decodeParallel),
// as one piece: repeated members, names in another case and bytes that are
// not UTF-8 are errors, which say where they are (describeStrictError).
func strictDecode(data []byte) error {
	if err := jsonv2.Unmarshal(data, new(Document), jsonv2.RejectUnknownMembers(true), v1Times); err != nil {
		return &strictError{err}
	}
	return nil
}

// strictError is an error of strictDecode.
type strictError struct{ err error }

func (e *strictError) Error() string { return e.err.Error() }
func (e *strictError) Unwrap() error { return e.err }

// describeStrictError words an error of strictDecode with its line,
// column and element path (principals[1].displayName).
func describeStrictError(data []byte, err error) string {
	var off int64
	var ptr jsontext.Pointer
	var sem *jsonv2.SemanticError
	var syn *jsontext.SyntacticError
	switch {
	case errors.As(err, &sem):
		off, ptr = sem.ByteOffset, sem.JSONPointer
	case errors.As(err, &syn):
		off, ptr = syn.ByteOffset, syn.JSONPointer
	default:
		return err.Error()
	}
	line, col := lineCol(data, off)
	at := fmt.Sprintf("line %d column %d", line, col)
	path := pointerPath(ptr)
	var perr *time.ParseError
	switch {
	case errors.Is(err, jsonv2.ErrUnknownName):
		// A name spelt in another case than the field's, which
		// encoding/json let through.
		if msg, ok := unknownField(data); ok {
			return at + ": " + msg
		}
		return fmt.Sprintf("%s: %s: unknown field; the fields are those of docs/api.md#world-document (check spelling and case)", at, path)
	case errors.Is(err, jsontext.ErrDuplicateName):
		return fmt.Sprintf("%s: %s appears twice; each member may be given once", at, path)
	case errors.As(err, &perr):
		return fmt.Sprintf("%s: %s: instant %q is not RFC 3339 (expected for example \"2026-03-01T00:00:00Z\")", at, path, perr.Value)
	case strings.Contains(err.Error(), "invalid UTF-8"):
		return fmt.Sprintf("%s: %s: a string holds bytes that are not UTF-8; the document must be UTF-8", at, path)
	}
	return fmt.Sprintf("%s: %s: %v", at, path, err)
}

// pointerPath turns a JSON pointer into the path form of the document's
// messages: /links/0/partnerId is links[0].partnerId (the document has no
// member whose name is a number).
func pointerPath(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil && b.Len() > 0 {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "the document"
	}
	return b.String()
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "slice":
		return "array"
	case "struct", "map":
		return "object"
	case "bool":
		return "boolean"
	case "ptr":
		return "value or null"
	}
	return "number"
}

func lineCol(data []byte, off int64) (int, int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:off] {
		if c == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}

// Normalize lower-cases every well-formed GUID and puts every instant in UTC,
// in place (a string or time pointer that changes is replaced, never
// written through; one already in UTC is kept).
// Malformed GUIDs are left as they are for Validate to report.
func Normalize(doc *Document) {
	for _, section := range []any{&doc.Partners, &doc.Tenants, &doc.ManagementGroups, &doc.Subscriptions,
		&doc.Principals, &doc.GroupMemberships, &doc.RoleDefinitions, &doc.RoleAssignments, &doc.Delegations,
		&doc.Links, &doc.Environments, &doc.PowerPlatformResources, &doc.Ownership} {
		normalizeSection(section)
	}
}

// normalizeSection is Normalize for one of a document's arrays (a pointer
// to it), so that the parallel decode normalizes each where it decoded it.
func normalizeSection(section any) {
	g := func(s *string) {
		// A GUID without upper-case letters, the usual case, would come out
		// of ToLower unchanged: skip parsing it.
		if partnerlink.HasUpperASCII(*s) && partnerlink.IsGUID(*s) {
			*s = partnerlink.ToLower(*s)
		}
	}
	// Pointer fields get a new pointer rather than a write through the old
	// one, so that Canonical can normalize a copy without touching the
	// original document.
	gp := func(s **string) {
		if *s != nil && partnerlink.IsGUID(**s) {
			v := partnerlink.ToLower(**s)
			*s = &v
		}
	}
	t := func(p *time.Time) *time.Time {
		if p == nil || p.Location() == time.UTC {
			return p // "…Z" decodes in UTC: no copy needed
		}
		u := p.UTC()
		return &u
	}
	switch section := section.(type) {
	case *[]Partner:
		for i := range *section {
			p := &(*section)[i]
			for j := range p.HomeTenantIDs {
				g(&p.HomeTenantIDs[j])
			}
			p.From, p.To = t(p.From), t(p.To)
		}
	case *[]Tenant:
		for i := range *section {
			g(&(*section)[i].TenantID)
		}
	case *[]ManagementGroup:
		for i := range *section {
			g(&(*section)[i].TenantID)
		}
	case *[]Subscription:
		for i := range *section {
			s := &(*section)[i]
			g(&s.SubscriptionID)
			g(&s.TenantID)
		}
	case *[]Principal:
		for i := range *section {
			p := &(*section)[i]
			g(&p.TenantID)
			g(&p.ObjectID)
			gp(&p.HomeTenantID)
			gp(&p.AppID)
			g(&p.HomeObjectID)
			p.From, p.To = t(p.From), t(p.To)
		}
	case *[]GroupMembership:
		for i := range *section {
			m := &(*section)[i]
			g(&m.TenantID)
			g(&m.GroupID)
			g(&m.MemberID)
			m.From, m.To = t(m.From), t(m.To)
		}
	case *[]RoleDefinition:
		for i := range *section {
			g(&(*section)[i].TenantID)
			g(&(*section)[i].ID)
		}
	case *[]RoleAssignment:
		for i := range *section {
			a := &(*section)[i]
			g(&a.TenantID)
			g(&a.ID)
			g(&a.PrincipalID)
			g(&a.RoleDefinition)
			a.From, a.To = t(a.From), t(a.To)
		}
	case *[]Delegation:
		for i := range *section {
			d := &(*section)[i]
			g(&d.ID)
			g(&d.CustomerTenantID)
			g(&d.ManagingTenantID)
			g(&d.PrincipalID)
			g(&d.RoleDefinition)
			d.From, d.To = t(d.From), t(d.To)
		}
	case *[]Link:
		for i := range *section {
			l := &(*section)[i]
			g(&l.TenantID)
			g(&l.ObjectID)
			l.From, l.To = t(l.From), t(l.To)
		}
	case *[]Environment:
		for i := range *section {
			g(&(*section)[i].TenantID)
		}
	case *[]PowerPlatformResource:
		for i := range *section {
			g(&(*section)[i].TenantID)
		}
	case *[]Ownership:
		for i := range *section {
			o := &(*section)[i]
			g(&o.PrincipalID)
			o.From, o.To = t(o.From), t(o.To)
		}
	default:
		panic(fmt.Sprintf("world: normalizeSection of %T", section))
	}
}
