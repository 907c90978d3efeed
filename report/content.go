// Package report closes months and renders the reports partners, customers
// and the incentive program receive (docs/rules.md#monthly-close). A close
// runs Azure and Power Platform attribution for the month on the stored
// state and the imported usage, and publishes the month's Content as a new
// version when it differs from the latest; every report is a pure function
// of one published version, so a version's reports never change.
package report

import (
	"cmp"
	"errors"
	"fmt"
	"strconv"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Content is what a version of a month holds: everything its reports show,
// sorted, so that its JSON is canonical and its hash identifies it.
type Content struct {
	Month string `json:"month"` // YYYY-MM
	// Azure is the month's credit per partner ID, customer tenant,
	// subscription, service, resource and currency, in the order of
	// partner ID, tenant, subscription, resource and currency.
	Azure AzureLines `json:"azure"`
	// Organizations is the month's credit per organization (location IDs
	// counted as their global ID, each usage row once), customer tenant and
	// currency.
	Organizations []OrgLine `json:"organizations"`
	// PowerPlatform is the month's Power Platform credit per resource.
	PowerPlatform []PPLine  `json:"powerPlatform"`
	Partners      []Partner `json:"partners"`
	Tenants       []Tenant  `json:"tenants"`
	// Readable lists the (partner ID, customer tenant) pairs whose detail
	// the partner sees (docs/rules.md#monthly-close, "Privacy").
	Readable []Pair `json:"readable"`
	// Credentials are the links in force during the month with the access
	// behind each.
	Credentials []Credential `json:"credentials"`
	// Events are the month's link changes.
	Events []Event `json:"events"`
	// Notifications are the notifications queued to tenants' webhooks
	// during the month (what was sent, not how delivery went, which changes
	// after the close).
	Notifications []Notice `json:"notifications"`
	// Unlinked are the organizations' credentials that could have been
	// linked, with what they would have credited.
	Unlinked []Unlinked `json:"unlinked"`
	Summary  Summary    `json:"summary"`

	// table, when Build knows it, is Azure's table (AzureLines.table),
	// worked out from the attribution's resources rather than by looking
	// every line's texts up (a quarter of a large month's encoding).
	table *azureTable
}

// azureTable is the lines' resources, each once in the order the lines
// first name them, and each line's resource number (AzureLines).
type azureTable struct {
	resources []LineResource
	of        []int32
}

// AzureLines are a month's Azure credit lines. A version stores them as a
// table: {"resources": [...], "lines": [...]}, each resource once as the
// array [tenant, subscription, service, resource id], in the order the
// lines first name them, and each line as the array [partner ID, the
// resource's number in resources (from 0), currency, attributed,
// eligible, USD, USD rows, usage rows, duplicate mark]. A resource has a
// line per partner and currency, and its texts took most of a large
// month's content. Versions published before December 2026 hold each
// line as an object, and those of December 2026 as an array of all its
// fields (partner ID, tenant, subscription, service, resource, currency,
// attributed, eligible, USD, USD rows, usage rows, duplicate mark); both
// read back the same (UnmarshalJSONFrom).
type AzureLines []AzureLine

// table returns the lines' table, looking each line's resource up.
func (ls AzureLines) table() *azureTable {
	t := &azureTable{of: make([]int32, len(ls))}
	number := map[LineResource]int32{}
	for i := range ls {
		k := *ls[i].LineResource
		n, ok := number[k]
		if !ok {
			n = int32(len(t.resources))
			t.resources = append(t.resources, k)
			number[k] = n
		}
		t.of[i] = n
	}
	return t
}

// matches reports whether t is the table of ls: Build's table no longer
// is when the lines were changed since. (Build's lines point into the
// table, and texts that are the same strings compare at once.)
func (t *azureTable) matches(ls AzureLines) bool {
	if len(t.of) != len(ls) {
		return false
	}
	for i := range ls {
		if r := &t.resources[t.of[i]]; ls[i].LineResource != r && *ls[i].LineResource != *r {
			return false
		}
	}
	return true
}

// share points each line at its resource in t, the table of ls: lines
// read or made one by one share one LineResource per resource.
func (t *azureTable) share(ls AzureLines) {
	for i := range ls {
		ls[i].LineResource = &t.resources[t.of[i]]
	}
}

// appendResources appends resources as arrays, separated by commas and
// without the brackets of the list, strings quoted as the JSON codec
// quotes them.
func appendResources(b []byte, resources []LineResource) ([]byte, error) {
	var err error
	for i, r := range resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		for j, v := range [4]string{r.TenantID, r.SubscriptionID, r.ServiceName, r.ResourceID} {
			if j > 0 {
				b = append(b, ',')
			}
			if b, err = jsontext.AppendQuote(b, v); err != nil {
				return nil, err
			}
		}
		b = append(b, ']')
	}
	return b, nil
}

// appendJSON appends the lines as arrays (AzureLines), line i naming its
// resource by of[i], separated by commas and without the brackets of the
// list, strings quoted as the JSON codec quotes them: a large month has
// hundreds of thousands (Marshal).
func (ls AzureLines) appendJSON(b []byte, of []int32) ([]byte, error) {
	var err error
	str := func(v string) {
		if b, err = jsontext.AppendQuote(b, v); err != nil {
			return
		}
		b = append(b, ',')
	}
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		str(l.PartnerID)
		b = strconv.AppendInt(b, int64(of[i]), 10)
		b = append(b, ',')
		str(l.Currency)
		str(l.Attributed)
		str(l.Eligible)
		str(l.USD)
		b = strconv.AppendInt(b, l.USDRows, 10)
		b = append(b, ',')
		b = strconv.AppendInt(b, l.UsageRows, 10)
		b = append(b, ',')
		b = strconv.AppendBool(b, l.DuplicateForPGA)
		b = append(b, ']')
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// sizeJSON is about the size of the lines' table (appendResources and
// appendJSON), a little more unless they need escapes: the resources
// counted once per line, as if every line had its own.
func (ls AzureLines) sizeJSON() int {
	n := 0
	for _, l := range ls {
		// Brackets, quotes and commas take 31 bytes, the numbers and the
		// boolean at most 55.
		n += 86 + len(l.PartnerID) + len(l.TenantID) + len(l.SubscriptionID) + len(l.ServiceName) + len(l.ResourceID) +
			len(l.Currency) + len(l.Attributed) + len(l.Eligible) + len(l.USD)
	}
	return n
}

// UnmarshalJSONFrom reads the lines as a version holds them: a table of
// resources and lines (AzureLines), a list of arrays (December 2026) or a
// list of objects (before). The texts that repeat from line to line
// (partner IDs, tenants, subscriptions, services, currencies, and a
// resource's id in a table) are kept once.
func (ls *AzureLines) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	return ls.read(dec, minCount)
}

// read is UnmarshalJSONFrom making room for at most room lines at once
// from a table's count (Unmarshal knows how many its input can hold; a
// count that lies then costs no more memory than the input's lines).
func (ls *AzureLines) read(dec *jsontext.Decoder, room int) error {
	p := lineParser{texts: map[string]string{}, room: room}
	switch dec.PeekKind() {
	case 'n':
		_, err := dec.ReadToken()
		*ls = nil
		return err
	case '{':
		lines, err := p.table(dec)
		*ls = lines
		return err
	}
	if tok, err := dec.ReadToken(); err != nil {
		return err
	} else if tok.Kind() != '[' {
		return fmt.Errorf("report content: the Azure lines are a JSON %v, not a list or a table", tok.Kind())
	}
	lines, err := readLines(dec, p.line, true, 0)
	if err == nil {
		lines.table().share(lines) // one LineResource per resource, as a table reads
	}
	*ls = lines
	return err
}

// table reads the lines as a table ({"resources": [...], "lines": [...]}).
func (p *lineParser) table(dec *jsontext.Decoder) (AzureLines, error) {
	var lines AzureLines
	err := p.readTable(dec, func(count int64, resources []LineResource) error {
		// The count sizes the list at once: gathering a large month's lines
		// in blocks and copying them into one list took longer than reading
		// them.
		var err error
		lines, err = readLines(dec, func(v []byte) (AzureLine, error) { return p.tableLine(v, resources) }, false, int(min(max(count, 0), int64(p.room))))
		if err == nil && count >= 0 && int64(len(lines)) != count {
			err = fmt.Errorf("report content: the Azure table's count is %d, but it has %d lines", count, len(lines))
		}
		return err
	})
	return lines, err
}

// eachTableLine reads the lines of a table one at a time, handing each to
// each (its resource is the table's: it stays valid), without keeping them.
func (p *lineParser) eachTableLine(dec *jsontext.Decoder, each func(l *AzureLine) error) error {
	return p.readTable(dec, func(count int64, resources []LineResource) error {
		n := int64(0)
		for dec.PeekKind() == '[' {
			v, err := dec.ReadValue()
			if err != nil {
				return err
			}
			l, err := p.tableLine(v, resources)
			if err != nil {
				return fmt.Errorf("report content: Azure line %d: %w", n+1, err)
			}
			n++
			if err := each(&l); err != nil {
				return err
			}
		}
		if tok, err := dec.ReadToken(); err != nil || tok.Kind() != ']' {
			return cmp.Or(err, fmt.Errorf("report content: Azure line %d is a JSON %v, not an array", n+1, tok.Kind()))
		}
		if count >= 0 && n != count {
			return fmt.Errorf("report content: the Azure table's count is %d, but it has %d lines", count, n)
		}
		return nil
	})
}

// readTable reads a table up to its lines, hands its count (-1 when it
// has none) and resources to lines, which reads the list of lines
// through its closing bracket, and reads the table's end.
func (p *lineParser) readTable(dec *jsontext.Decoder, lines func(count int64, resources []LineResource) error) error {
	// open checks that tok names the member name (where the member want
	// belongs) and reads the opening bracket of its list.
	open := func(tok jsontext.Token, name, want string) error {
		if tok.Kind() != '"' || tok.String() != name {
			return fmt.Errorf("report content: the Azure table has %v where %q belongs", tok, want)
		}
		tok, err := dec.ReadToken()
		if err == nil && tok.Kind() != '[' {
			err = fmt.Errorf("report content: the Azure table's %s is a JSON %v, not a list", name, tok.Kind())
		}
		return err
	}
	member := func(name string) error {
		tok, err := dec.ReadToken()
		if err != nil {
			return err
		}
		return open(tok, name, name)
	}
	if _, err := dec.ReadToken(); err != nil { // {
		return err
	}
	// The count (which versions of the first days of the table lack)
	count := int64(-1)
	if tok, err := dec.ReadToken(); err != nil {
		return err
	} else if tok.Kind() == '"' && tok.String() == "count" {
		if tok, err = dec.ReadToken(); err != nil {
			return err
		}
		if tok.Kind() == '0' {
			if n, err := tok.Int(); err == nil && n >= 0 {
				count = n
			}
		}
		if count < 0 {
			desc := tok.String()
			if tok.Kind() == '"' {
				desc = strconv.Quote(desc)
			}
			return fmt.Errorf("report content: the Azure table's count is %s, not a number of lines", desc)
		}
		if err := member("resources"); err != nil {
			return err
		}
	} else if err := open(tok, "resources", "count"); err != nil {
		return err
	}
	var resources []LineResource
	for dec.PeekKind() == '[' {
		v, err := dec.ReadValue()
		if err != nil {
			return err
		}
		r, err := p.resource(v)
		if err != nil {
			return fmt.Errorf("report content: Azure resource %d: %w", len(resources), err)
		}
		resources = append(resources, r)
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != ']' {
		return cmp.Or(err, fmt.Errorf("report content: Azure resource %d is a JSON %v, not an array", len(resources), tok.Kind()))
	}
	if err := member("lines"); err != nil {
		return err
	}
	if err := lines(count, resources); err != nil {
		return err
	}
	if tok, err := dec.ReadToken(); err != nil || tok.Kind() != '}' {
		return cmp.Or(err, fmt.Errorf("report content: the Azure table has more than its resources and lines"))
	}
	return nil
}

// minCount is the room a table's count makes for its lines at once when
// the size of the input is not known (a larger table's list grows as it is
// read).
const minCount = 1 << 16

// minLineJSON is the fewest bytes a line of a table takes:
// ["",0,"","","","",0,0,false] and its comma.
const minLineJSON = 29

// readLines reads the lines of a list whose opening bracket is read, each
// array with parse, and objects when they are accepted (earlier versions).
// count, when above 0, is how many lines the list holds.
func readLines(dec *jsontext.Decoder, parse func(v []byte) (AzureLine, error), objects bool, count int) (AzureLines, error) {
	// Beyond the count, the lines are gathered in blocks and copied once
	// into a list of the right size: growing one list to hundreds of
	// thousands of lines took longer than reading them.
	var blocks []AzureLines
	read := 0 // lines in blocks
	out := make(AzureLines, 0, max(count, 1024))
	add := func(l AzureLine) {
		if len(out) == cap(out) {
			read += len(out)
			blocks = append(blocks, out)
			out = make(AzureLines, 0, min(2*cap(out), 1<<14))
		}
		out = append(out, l)
	}
	for {
		switch k := dec.PeekKind(); {
		case k == ']':
			_, err := dec.ReadToken()
			if blocks == nil {
				return out, err
			}
			all := make(AzureLines, read+len(out))
			n := 0
			for _, b := range append(blocks, out) {
				// A few hundred lines at a time: a copy of memory holding
				// pointers cannot be preempted, and a collection waiting for
				// one copy of a block made reading a large month's lines take
				// a second longer.
				for len(b) > 0 {
					k := copy(all[n:], b[:min(len(b), 256)])
					n, b = n+k, b[k:]
				}
			}
			return all, err
		case k == '[':
			v, err := dec.ReadValue()
			if err != nil {
				return nil, err
			}
			l, err := parse(v)
			if err != nil {
				return nil, fmt.Errorf("report content: Azure line %d: %w", read+len(out)+1, err)
			}
			add(l)
		case k == '{' && objects:
			var l AzureLine
			if err := jsonv2.UnmarshalDecode(dec, &l); err != nil {
				return nil, err
			}
			if l.LineResource == nil { // an object without them: empty texts
				l.LineResource = &LineResource{}
			}
			add(l)
		default:
			// An error, or a value that is not a line: ReadToken says which.
			tok, err := dec.ReadToken()
			if err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("report content: Azure line %d is a JSON %v, not an array", read+len(out)+1, tok.Kind())
		}
	}
}

// lineParser reads one line's array, which the decoder has checked is
// valid JSON.
type lineParser struct {
	b     []byte
	texts map[string]string // the repeated texts, kept once
	buf   []byte
	room  int // the most lines a table's count makes room for at once
}

func (p *lineParser) line(v []byte) (AzureLine, error) {
	p.b = v
	l := AzureLine{LineResource: &LineResource{}} // shared once the table is made (AzureLines.read)
	if !p.punct('[') {
		return l, errLine
	}
	for i, f := range []*string{&l.PartnerID, &l.TenantID, &l.SubscriptionID, &l.ServiceName, &l.ResourceID, &l.Currency} {
		raw, ok := p.str()
		switch {
		case !ok || !p.punct(','):
			return l, errLine
		case i == 4: // the resource: one line's own
			*f = string(raw)
		default:
			*f = p.text(raw)
		}
	}
	if !p.amounts(&l) {
		return l, errLine
	}
	return l, nil
}

var errLine = errors.New("expected an array of 9 strings, 2 integers and a boolean")

// text is raw as a string kept once for all the lines.
func (p *lineParser) text(raw []byte) string {
	s, ok := p.texts[string(raw)]
	if !ok {
		s = string(raw)
		p.texts[s] = s
	}
	return s
}

// amounts reads the end of a line's array, after its currency: the
// attributed, eligible and USD amounts, the USD rows, the usage rows and
// the duplicate mark, then the closing bracket.
func (p *lineParser) amounts(l *AzureLine) bool {
	for i, f := range []*string{&l.Attributed, &l.Eligible, &l.USD} {
		raw, ok := p.str()
		switch {
		case !ok || !p.punct(','):
			return false
		case i > 0 && string(raw) == l.Attributed: // eligible and USD mostly equal it
			*f = l.Attributed
		default:
			*f = string(raw)
		}
	}
	var ok1, ok2 bool
	l.USDRows, ok1 = p.int()
	if !ok1 || !p.punct(',') {
		return false
	}
	l.UsageRows, ok2 = p.int()
	if !ok2 || !p.punct(',') {
		return false
	}
	switch {
	case p.word("true"):
		l.DuplicateForPGA = true
	case p.word("false"):
	default:
		return false
	}
	return p.punct(']') && len(p.skip()) == 0
}

// resource reads a resource's array of a table: tenant, subscription,
// service and resource id.
func (p *lineParser) resource(v []byte) (LineResource, error) {
	p.b = v
	var r LineResource
	if !p.punct('[') {
		return r, errResource
	}
	for i, f := range []*string{&r.TenantID, &r.SubscriptionID, &r.ServiceName, &r.ResourceID} {
		raw, ok := p.str()
		end := byte(',')
		if i == 3 {
			end = ']'
		}
		if !ok || !p.punct(end) {
			return r, errResource
		}
		if i == 3 {
			*f = string(raw) // the resource's own
		} else {
			*f = p.text(raw)
		}
	}
	if len(p.skip()) != 0 {
		return r, errResource
	}
	return r, nil
}

var errResource = errors.New("expected an array of 4 strings")

// tableLine reads a line's array of a table (AzureLines).
func (p *lineParser) tableLine(v []byte, resources []LineResource) (AzureLine, error) {
	p.b = v
	var l AzureLine
	if !p.punct('[') {
		return l, errTableLine
	}
	raw, ok := p.str()
	if !ok || !p.punct(',') {
		return l, errTableLine
	}
	l.PartnerID = p.text(raw)
	n, ok := p.int()
	if !ok || !p.punct(',') {
		return l, errTableLine
	}
	if n < 0 || n >= int64(len(resources)) {
		return l, fmt.Errorf("%w (resource %d of %d)", errTableLine, n, len(resources))
	}
	l.LineResource = &resources[n]
	if raw, ok = p.str(); !ok || !p.punct(',') {
		return l, errTableLine
	}
	l.Currency = p.text(raw)
	if !p.amounts(&l) {
		return l, errTableLine
	}
	return l, nil
}

var errTableLine = errors.New("expected an array of a string, a resource number, 4 strings, 2 integers and a boolean")

// skip drops white space before the next token and returns the rest.
func (p *lineParser) skip() []byte {
	for len(p.b) > 0 && (p.b[0] == ' ' || p.b[0] == '\t' || p.b[0] == '\n' || p.b[0] == '\r') {
		p.b = p.b[1:]
	}
	return p.b
}

func (p *lineParser) punct(c byte) bool {
	if b := p.skip(); len(b) > 0 && b[0] == c {
		p.b = b[1:]
		return true
	}
	return false
}

func (p *lineParser) word(w string) bool {
	if b := p.skip(); len(b) >= len(w) && string(b[:len(w)]) == w {
		p.b = b[len(w):]
		return true
	}
	return false
}

// str reads a string: its bytes in place, or unescaped into a buffer
// (valid until the next call) when it has escapes.
func (p *lineParser) str() ([]byte, bool) {
	b := p.skip()
	if len(b) == 0 || b[0] != '"' {
		return nil, false
	}
	for i := 1; i < len(b); i++ {
		switch b[i] {
		case '"':
			p.b = b[i+1:]
			return b[1:i], true
		case '\\':
			// Escapes: find the closing quote, then unquote.
			for j := i; j < len(b); j++ {
				if b[j] == '\\' {
					j++
				} else if b[j] == '"' {
					var err error
					if p.buf, err = jsontext.AppendUnquote(p.buf[:0], b[:j+1]); err != nil {
						return nil, false
					}
					p.b = b[j+1:]
					return p.buf, true
				}
			}
			return nil, false
		}
	}
	return nil, false
}

func (p *lineParser) int() (int64, bool) {
	b := p.skip()
	neg := len(b) > 0 && b[0] == '-'
	if neg {
		b = b[1:]
	}
	i, n := 0, int64(0)
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		if i == 18 {
			return 0, false // beyond any count of rows
		}
		n = n*10 + int64(b[i]-'0')
	}
	p.b = b[i:]
	if neg {
		n = -n
	}
	return n, i > 0
}

// AzureLine is one partner ID's credit on one resource in one currency.
type AzureLine struct {
	PartnerID string `json:"partnerId"`
	// The line's resource, shared by the resource's lines (a large month
	// has a few lines per resource): read its fields through the line, but
	// change a line's resource by pointing it at another LineResource.
	*LineResource `json:",inline"`
	Currency      string `json:"currency"`
	Attributed    string `json:"attributedCost"`
	Eligible      string `json:"incentiveEligibleCost"`
	// USD is the line's amount in US dollars for ACR_USD (docs/rules.md,
	// "Partner Center layout"); USDRows of UsageRows have one.
	USD       string `json:"usd"`
	USDRows   int64  `json:"usdRows"`
	UsageRows int64  `json:"usageRows"`
	// DuplicateForPGA marks a line whose resource the same organization
	// is also credited with through an ID that sorts before this one: the
	// organization's total counts such usage once.
	DuplicateForPGA bool `json:"isDuplicateRowForPGA"`
}

// LineResource is what the credit lines of one resource share.
type LineResource struct {
	TenantID       string `json:"tenantId"`
	SubscriptionID string `json:"subscriptionId"`
	ServiceName    string `json:"serviceName"`
	ResourceID     string `json:"resourceId"`
}

// OrgLine is one organization's credit in one customer tenant and currency.
type OrgLine struct {
	GlobalPartnerID string `json:"globalPartnerId"`
	TenantID        string `json:"tenantId"`
	Currency        string `json:"currency"`
	Attributed      string `json:"attributedCost"`
	Eligible        string `json:"incentiveEligibleCost"`
	UsageRows       int64  `json:"usageRows"`
}

// PPLine is one Power Platform resource's credit for the month.
type PPLine struct {
	PartnerID     string `json:"partnerId"`
	TenantID      string `json:"tenantId"`
	EnvironmentID string `json:"environmentId"`
	ResourceID    string `json:"resourceId"`
	Kind          string `json:"resourceKind"`
	Metric        string `json:"metric"`
	Value         int64  `json:"value"`
	Eligible      bool   `json:"eligible"`
}

// Partner is a partner ID as registered at the close.
type Partner struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	GlobalID      string   `json:"globalId,omitempty"`
	HomeTenantIDs []string `json:"homeTenantIds,omitempty"`
}

// Tenant is a tenant as named at the close.
type Tenant struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Pair is a partner ID and a customer tenant.
type Pair struct {
	PartnerID string `json:"partnerId"`
	TenantID  string `json:"tenantId"`
}

// Credential is a link in force during the month: a principal of a tenant
// linked to a partner ID, and the roles it held through it.
type Credential struct {
	TenantID    string   `json:"tenantId"`
	ObjectID    string   `json:"objectId"`
	Type        string   `json:"type"`
	DisplayName string   `json:"displayName"`
	PartnerID   string   `json:"partnerId"`
	Since       string   `json:"since"` // the link's start (RFC 3339), "" when unbounded
	Until       string   `json:"until,omitempty"`
	Access      []Access `json:"access"`
}

// Access is a role a credential held at a scope during the month.
type Access struct {
	TenantID string `json:"tenantId"` // the tenant the scope is in
	Role     string `json:"role"`
	Scope    string `json:"scope"`
	Via      string `json:"via"` // "assignment" or "delegation"
	Through  string `json:"through,omitempty"`
}

// Event is one link change of the month.
type Event struct {
	At                string `json:"at"`
	TenantID          string `json:"tenantId"`
	ObjectID          string `json:"objectId"`
	Action            string `json:"action"`
	PartnerID         string `json:"partnerId"`
	PreviousPartnerID string `json:"previousPartnerId,omitempty"`
	Actor             string `json:"actor"`
}

// Notice is one notification queued to a tenant's webhook.
type Notice struct {
	QueuedAt string `json:"queuedAt"`
	TenantID string `json:"tenantId"`
	EventID  int64  `json:"eventId"`
	Type     string `json:"type"` // the payload's type, such as partnerlink.link.created
}

// Summary says what the close read.
type Summary struct {
	// Files are the content hashes of the usage files read.
	Files    []string `json:"files"`
	RowsRead int64    `json:"rowsRead"`
	// RowsCredited were credited to at least one partner ID.
	RowsCredited int64 `json:"rowsCredited"`
	// RowsWithoutUSD were credited but have no amount in US dollars, so
	// they are left out of ACR_USD.
	RowsWithoutUSD int64 `json:"rowsWithoutUsd"`
}
