package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// Option changes how Read interprets an export.
type Option func(*options)

type options struct {
	defaultTenant string
}

// DefaultTenant names the tenant of rows that do not carry one: az role
// assignment list output has no tenantId (it is listed in the signed-in
// subscription's tenant). Resource Graph rows carry their own tenantId and
// keep it.
func DefaultTenant(tenantID string) Option {
	return func(o *options) { o.defaultTenant = tenantID }
}

// item is one row of the export with where it starts, for messages.
type item struct {
	index int
	line  int
	raw   json.RawMessage
}

// reader holds what Read needs while it parses one export.
type reader struct {
	name string
	data []byte
	opts options
}

// Read parses an export of Azure role assignments, role definitions and
// resource containers (see the package documentation for the formats) and
// recognizes which format it is by its shape. name is the file name, used
// in messages. Errors name the file, the row (index from 0, and line) and
// the field, and say what is accepted.
func Read(r io.Reader, name string, opts ...Option) (*Snapshot, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read snapshot %s: %w", name, err)
	}
	rd := &reader{name: name, data: data}
	for _, o := range opts {
		o(&rd.opts)
	}
	if rd.opts.defaultTenant != "" {
		t, err := partnerlink.ParseGUID("default tenant", rd.opts.defaultTenant)
		if err != nil {
			return nil, rd.fail("%s", partnerlink.ErrorMessage(err))
		}
		rd.opts.defaultTenant = t
	}
	items, err := rd.rows()
	if err != nil {
		return nil, err
	}
	return rd.parse(items)
}

// fail returns an error about the whole file.
func (rd *reader) fail(format string, args ...any) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "snapshot %s: %s", rd.name, fmt.Sprintf(format, args...))
}

// failItem returns an error about one row and, when field is not empty, one
// of its fields.
func (rd *reader) failItem(it item, field, format string, args ...any) error {
	where := fmt.Sprintf("item %d (line %d)", it.index, it.line)
	if field != "" {
		where += ": " + field
	}
	return rd.fail("%s: %s", where, fmt.Sprintf(format, args...))
}

// rows finds the array of rows in any of the accepted shapes: a plain
// array, a Resource Graph response object (data as an array of objects or
// as a table of columns and rows), or an ARM list ({"value": [...]}).
func (rd *reader) rows() ([]item, error) {
	data := rd.data
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		// Windows PowerShell's Out-File writes a UTF-8 byte order mark.
		data = data[3:]
		rd.data = append(make([]byte, 0, len(data)), data...)
		data = rd.data
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return nil, rd.fail("the file is UTF-16 (as Windows PowerShell's > writes it); save it as UTF-8, for example with Out-File -Encoding utf8")
	}
	if err := rd.checkJSON(); err != nil {
		return nil, err
	}
	start := skipSpace(data, 0)
	switch data[start] {
	case '[':
		return rd.arrayItems(json.RawMessage(data[start:]), int64(start))
	case '{':
		return rd.envelope(int64(start))
	}
	return nil, rd.fail("expected a JSON array of rows, or an object with \"data\" (Azure Resource Graph) or \"value\" (ARM list); found %s", jsonKindOf(data[start]))
}

// checkJSON rejects what is not one JSON value, with the line and column.
func (rd *reader) checkJSON() error {
	data := rd.data
	if len(bytes.TrimSpace(data)) == 0 {
		return rd.fail("the file is empty; expected the JSON output of az role assignment list or of an Azure Resource Graph query")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		end := dec.InputOffset()
		if _, err2 := dec.Token(); err2 != io.EOF {
			line, col := lineCol(data, int64(skipSpace(data, int(end))))
			return rd.fail("line %d column %d: unexpected data after the JSON value; expected one JSON array or object", line, col)
		}
		return nil
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		// Offset counts the bytes read, the offending one included.
		line, col := lineCol(data, max(syn.Offset-1, 0))
		return rd.fail("not JSON: line %d column %d: %v", line, col, syn)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return rd.fail("not JSON: the file ends in the middle of a value (truncated?)")
	}
	return rd.fail("not JSON: %v", err)
}

// arrayItems splits a JSON array (raw, starting at offset base of the file)
// into its elements with their line numbers.
func (rd *reader) arrayItems(raw json.RawMessage, base int64) ([]item, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // the '['
		return nil, rd.fail("reading the array of rows: %v", err)
	}
	var items []item
	for dec.More() {
		off := base + dec.InputOffset()
		var el json.RawMessage
		if err := dec.Decode(&el); err != nil {
			line, _ := lineCol(rd.data, off)
			return nil, rd.fail("item %d (line %d): %v", len(items), line, err)
		}
		line, _ := lineCol(rd.data, int64(skipSeparators(rd.data, int(off))))
		items = append(items, item{index: len(items), line: line, raw: el})
	}
	return items, nil
}

// envelope reads a JSON object that wraps the rows: Resource Graph's
// {"data": …} in the az graph query or REST form, or an ARM list's
// {"value": …}. A result that says more pages exist is refused: one page of
// a snapshot would close every assignment on the others.
func (rd *reader) envelope(base int64) ([]item, error) {
	dec := json.NewDecoder(bytes.NewReader(rd.data[base:]))
	if _, err := dec.Token(); err != nil { // the '{'
		return nil, rd.fail("reading the object: %v", err)
	}
	fields := map[string]json.RawMessage{}
	offsets := map[string]int64{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, rd.fail("reading the object: %v", err)
		}
		key, _ := tok.(string)
		off := base + dec.InputOffset()
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, rd.fail("reading %q: %v", key, err)
		}
		fields[key] = v
		offsets[key] = int64(skipSeparators(rd.data, int(off)))
	}
	if v, ok := fields["value"]; ok && fields["data"] == nil {
		if next := jsonString(fields["nextLink"]); next != "" {
			return nil, rd.fail("this is one page of an ARM list (nextLink is set); follow nextLink and merge every page's \"value\" into one array")
		}
		if !isArray(v) {
			return nil, rd.fail("\"value\" is %s; expected the array of an ARM list", jsonKindOf(firstByte(v)))
		}
		return rd.arrayItems(v, offsets["value"])
	}
	data, ok := fields["data"]
	if !ok {
		keys := make([]string, 0, len(fields))
		for k := range fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return nil, rd.fail("unknown shape: an object with fields %s; expected a JSON array of rows, an Azure Resource Graph result with \"data\" (az graph query), or an ARM list with \"value\"", strings.Join(keys, ", "))
	}
	for _, k := range []string{"skip_token", "$skipToken", "skipToken"} {
		if s := jsonString(fields[k]); s != "" {
			return nil, rd.fail("this is one page of a Resource Graph result (%s is set); export every page (az graph query --first 1000 --skip-token …) and merge their \"data\" arrays into one array", k)
		}
	}
	if t := strings.Trim(string(fields["resultTruncated"]), `"`); strings.EqualFold(t, "true") {
		return nil, rd.fail("the Resource Graph result is truncated (resultTruncated is true); page through it with a skip token, sorting by id, and merge every page")
	}
	for _, k := range []string{"total_records", "totalRecords"} {
		var total, count int64
		if json.Unmarshal(fields[k], &total) == nil && json.Unmarshal(fields["count"], &count) == nil && count < total {
			return nil, rd.fail("the Resource Graph result holds %d of %d rows (count < %s); export every row (az graph query --first 1000 and --skip-token for the rest) into one array", count, total, k)
		}
	}
	switch firstByte(data) {
	case '[':
		return rd.arrayItems(data, offsets["data"])
	case '{':
		return rd.table(data, offsets["data"])
	}
	return nil, rd.fail("\"data\" is %s; expected an array of rows or a table {\"columns\": [...], \"rows\": [...]}", jsonKindOf(firstByte(data)))
}

// table turns Resource Graph's table format ({"columns": [{"name","type"}],
// "rows": [[…]]}) into one object per row, keyed by column name.
func (rd *reader) table(raw json.RawMessage, base int64) ([]item, error) {
	var t struct {
		Columns []struct {
			Name string `json:"name"`
		} `json:"columns"`
		Rows json.RawMessage `json:"rows"`
	}
	if err := json.Unmarshal(raw, &t); err != nil {
		return nil, rd.fail("\"data\" is not a Resource Graph table: %v; expected {\"columns\": [{\"name\": …, \"type\": …}], \"rows\": [[…]]}", err)
	}
	if len(t.Columns) == 0 || !isArray(t.Rows) {
		return nil, rd.fail("\"data\" is an object but not a Resource Graph table; expected {\"columns\": [{\"name\": …, \"type\": …}], \"rows\": [[…]]}")
	}
	// rows sits somewhere inside raw; find its offset so that lines are right.
	rowsOff := base + int64(bytes.Index(raw, t.Rows))
	rows, err := rd.arrayItems(t.Rows, rowsOff)
	if err != nil {
		return nil, err
	}
	for i, r := range rows {
		var cells []json.RawMessage
		if err := json.Unmarshal(r.raw, &cells); err != nil {
			return nil, rd.failItem(r, "", "a table row must be an array of cells")
		}
		if len(cells) != len(t.Columns) {
			return nil, rd.failItem(r, "", "the row has %d cells but the table has %d columns", len(cells), len(t.Columns))
		}
		obj := make(map[string]json.RawMessage, len(cells))
		for j, c := range t.Columns {
			obj[c.Name] = cells[j]
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return nil, rd.failItem(r, "", "%v", err)
		}
		rows[i].raw = b
	}
	return rows, nil
}

// family is the export a row belongs to.
type family int

const (
	famUnknown family = iota
	famAzAssignments
	famAzDefinitions
	famResourceGraph
)

func (f family) format() Format {
	switch f {
	case famAzAssignments:
		return FormatAzRoleAssignments
	case famAzDefinitions:
		return FormatAzRoleDefinitions
	case famResourceGraph:
		return FormatResourceGraph
	}
	return FormatEmpty
}

// classify says which export a row comes from, by its fields:
// az role assignment list rows have principalId/roleDefinitionId at the
// top (or, in the older shape, under properties with the ARM type
// "Microsoft.Authorization/roleAssignments" and no tenantId); az role
// definition list rows have roleName and permissions; Resource Graph rows
// have a lower-case type and an id.
func classify(m map[string]json.RawMessage) family {
	_, hasPrincipal := m["principalId"]
	_, hasRoleDef := m["roleDefinitionId"]
	_, hasRoleName := m["roleName"]
	_, hasPermissions := m["permissions"]
	_, hasTenant := m["tenantId"]
	_, hasProps := m["properties"]
	typ := jsonString(m["type"])
	switch {
	case hasRoleName && hasPermissions:
		return famAzDefinitions
	case hasPrincipal || hasRoleDef:
		return famAzAssignments
	case hasProps && !hasTenant && typ == "Microsoft.Authorization/roleAssignments":
		return famAzAssignments
	case typ != "" && m["id"] != nil:
		return famResourceGraph
	}
	return famUnknown
}

// parse classifies every row, checks that they all come from one export,
// and reads them.
func (rd *reader) parse(items []item) (*Snapshot, error) {
	snap := &Snapshot{Name: rd.name, Format: FormatEmpty}
	fam := famUnknown
	objs := make([]map[string]json.RawMessage, len(items))
	for i, it := range items {
		if firstByte(it.raw) != '{' {
			return nil, rd.failItem(it, "", "a row must be a JSON object, not %s", jsonKindOf(firstByte(it.raw)))
		}
		if err := json.Unmarshal(it.raw, &objs[i]); err != nil {
			return nil, rd.failItem(it, "", "%v", err)
		}
		f := classify(objs[i])
		if f == famUnknown {
			return nil, rd.failItem(it, "", "unknown shape: not a row of az role assignment list (principalId, roleDefinitionId, scope), az role definition list (roleName, permissions) or Azure Resource Graph (id, type, tenantId, properties)")
		}
		if fam != famUnknown && f != fam {
			return nil, rd.failItem(it, "", "this row is %s output but the rows before it are %s output; import each export as its own file", f.format(), fam.format())
		}
		fam = f
	}
	snap.Format = fam.format()
	var err error
	switch fam {
	case famAzAssignments:
		err = rd.readAzAssignments(snap, items, objs)
	case famAzDefinitions:
		err = rd.readAzDefinitions(snap, items, objs)
	case famResourceGraph:
		err = rd.readResourceGraph(snap, items, objs)
	}
	if err != nil {
		return nil, err
	}
	if err := rd.checkDuplicates(snap); err != nil {
		return nil, err
	}
	return snap, nil
}

// checkDuplicates drops rows listed twice identically (concatenated az
// outputs repeat inherited management group assignments) and refuses two
// different rows with one key.
func (rd *reader) checkDuplicates(snap *Snapshot) error {
	seen := map[string]RoleAssignment{}
	out := snap.RoleAssignments[:0]
	for _, a := range snap.RoleAssignments {
		k := a.TenantID + "/" + a.ID
		if prev, ok := seen[k]; ok {
			if prev.PrincipalID != a.PrincipalID || prev.RoleDefinitionID != a.RoleDefinitionID || !strings.EqualFold(prev.Scope, a.Scope) {
				return rd.fail("role assignment %s is listed twice with different contents (items %d and %d); an assignment id names one assignment", a.ID, prev.Item, a.Item)
			}
			continue
		}
		seen[k] = a
		out = append(out, a)
	}
	snap.RoleAssignments = out
	defs := map[string]int{}
	for _, d := range snap.RoleDefinitions {
		k := d.TenantID + "/" + d.ID
		if prev, ok := defs[k]; ok {
			return rd.fail("role definition %s is listed twice (items %d and %d)", d.ID, prev, d.Item)
		}
		defs[k] = d.Item
	}
	subs := map[string]int{}
	for _, s := range snap.Subscriptions {
		if prev, ok := subs[s.SubscriptionID]; ok {
			return rd.fail("subscription %s is listed twice (items %d and %d)", s.SubscriptionID, prev, s.Item)
		}
		subs[s.SubscriptionID] = s.Item
	}
	mgs := map[string]int{}
	for _, m := range snap.ManagementGroups {
		k := m.TenantID + "/" + strings.ToLower(m.Name)
		if prev, ok := mgs[k]; ok {
			return rd.fail("management group %s is listed twice (items %d and %d)", m.Name, prev, m.Item)
		}
		mgs[k] = m.Item
	}
	return nil
}

// optionalTenant returns the row's own tenantId, else the default tenant,
// else "".
func (rd *reader) optionalTenant(it item, raw json.RawMessage, field string) (string, error) {
	s, present, err := stringField(raw)
	if err != nil {
		return "", rd.failItem(it, field, "%v", err)
	}
	if !present || s == "" {
		return rd.opts.defaultTenant, nil
	}
	t, err := partnerlink.ParseGUID(field, s)
	if err != nil {
		return "", rd.failItem(it, "", "%s", partnerlink.ErrorMessage(err))
	}
	return t, nil
}

// tenant returns the row's tenant: its own tenantId, or the default.
func (rd *reader) tenant(it item, raw json.RawMessage, field string) (string, error) {
	s, present, err := stringField(raw)
	if err != nil {
		return "", rd.failItem(it, field, "%v", err)
	}
	if !present || s == "" {
		if rd.opts.defaultTenant == "" {
			return "", rd.failItem(it, field, "the row has no tenantId (az role assignment list does not write one); name the tenant the export was taken in with --tenant TENANT_ID")
		}
		return rd.opts.defaultTenant, nil
	}
	t, err := partnerlink.ParseGUID(field, s)
	if err != nil {
		return "", rd.failItem(it, "", "%s", partnerlink.ErrorMessage(err))
	}
	return t, nil
}

// stringField decodes a JSON string that may be absent or null.
func stringField(raw json.RawMessage) (s string, present bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false, nil
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", true, fmt.Errorf("must be a JSON string, not %s", jsonKindOf(firstByte(raw)))
	}
	return s, true, nil
}

// requiredString decodes a field that must be a non-empty string.
func (rd *reader) requiredString(it item, m map[string]json.RawMessage, key, path, what string) (string, error) {
	s, present, err := stringField(m[key])
	if err != nil {
		return "", rd.failItem(it, path, "%v", err)
	}
	if !present || strings.TrimSpace(s) == "" {
		return "", rd.failItem(it, path, "is missing; expected %s", what)
	}
	return s, nil
}

// optionalString decodes a field that may be absent or null.
func (rd *reader) optionalString(it item, m map[string]json.RawMessage, key, path string) (string, error) {
	s, _, err := stringField(m[key])
	if err != nil {
		return "", rd.failItem(it, path, "%v", err)
	}
	return s, nil
}

// guidField decodes a required GUID field, lower-cased.
func (rd *reader) guidField(it item, m map[string]json.RawMessage, key, path, what string) (string, error) {
	s, err := rd.requiredString(it, m, key, path, what)
	if err != nil {
		return "", err
	}
	if !partnerlink.IsGUID(s) {
		return "", rd.failItem(it, path, "%q is not a GUID; expected %s (8-4-4-4-12 hexadecimal digits)", s, what)
	}
	return strings.ToLower(s), nil
}

// object decodes a field that must be a JSON object (absent or null gives
// nil).
func (rd *reader) object(it item, m map[string]json.RawMessage, key, path string) (map[string]json.RawMessage, error) {
	raw := m[key]
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var o map[string]json.RawMessage
	if firstByte(raw) != '{' || json.Unmarshal(raw, &o) != nil {
		return nil, rd.failItem(it, path, "must be a JSON object, not %s", jsonKindOf(firstByte(raw)))
	}
	return o, nil
}

// scope parses an assignment scope, keeping its casing.
func (rd *reader) scope(it item, s, path string) (partnerlink.Scope, error) {
	sc, err := partnerlink.ParseScope(s)
	if err != nil {
		return partnerlink.Scope{}, rd.failItem(it, path, "%s", partnerlink.ErrorMessage(err))
	}
	return sc, nil
}

const roleDefSuffix = "/providers/microsoft.authorization/roledefinitions/"

// roleDefinitionID parses a role definition resource id:
// /subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid},
// /providers/Microsoft.Authorization/roleDefinitions/{guid}, or the same
// below a management group. It returns the GUID and, for the first form,
// the subscription it was listed in.
func (rd *reader) roleDefinitionID(it item, s, path string) (guid, sub string, err error) {
	bad := func(why string) (string, string, error) {
		return "", "", rd.failItem(it, path, "%q is not a role definition id: %s; expected /subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{guid} or /providers/Microsoft.Authorization/roleDefinitions/{guid}", s, why)
	}
	low := strings.ToLower(s)
	i := strings.LastIndex(low, roleDefSuffix)
	if i < 0 {
		return bad("it does not end in /providers/Microsoft.Authorization/roleDefinitions/{guid}")
	}
	g := s[i+len(roleDefSuffix):]
	if !partnerlink.IsGUID(g) {
		return bad("the role definition name is not a GUID")
	}
	if prefix := s[:i]; prefix != "" {
		sc, err := partnerlink.ParseScope(prefix)
		if err != nil || (sc.Kind != partnerlink.ScopeSubscription && sc.Kind != partnerlink.ScopeManagementGroup) {
			return bad("it is defined neither at the top, in a subscription nor in a management group")
		}
		sub = sc.Subscription
	}
	return strings.ToLower(g), sub, nil
}

// roleRef is how the world document names a role: a built-in role's name
// when the GUID is one every world knows, else the GUID.
func roleRef(guid string) string {
	if b, ok := lookupBuiltin(guid); ok {
		return b
	}
	return guid
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipSeparators skips whitespace and the ',' and ':' between JSON values.
func skipSeparators(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r', ',', ':':
			i++
		default:
			return i
		}
	}
	return i
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

func firstByte(raw []byte) byte {
	i := skipSpace(raw, 0)
	if i >= len(raw) {
		return 0
	}
	return raw[i]
}

func isArray(raw []byte) bool { return firstByte(raw) == '[' }

func jsonKindOf(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	case c == 0:
		return "nothing"
	}
	return "a number"
}

// jsonString returns raw's string value, or "" if it is not a string.
func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}
