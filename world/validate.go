package world

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
)

// maxProblems bounds how many problems Validate reports: enough to fix a
// document in one pass, not so many that the first ones scroll away.
const maxProblems = 20

// problems collects validation errors, each naming the element path.
type problems struct {
	list  []string
	extra int
}

func (p *problems) add(path at, format string, args ...any) {
	if len(p.list) >= maxProblems {
		p.extra++
		return
	}
	p.list = append(p.list, path.String()+": "+fmt.Sprintf(format, args...))
}

// at is the path of an element or of one of its fields, such as
// roleAssignments[3].scope. It becomes text only when a problem is
// reported: formatting a path for every element of a large, valid document
// was most of Validate's time.
type at struct {
	list  string // "roleAssignments"; the whole path when i < 0
	i     int
	field string // "scope"; "" for the element itself
}

// elem is the path of the i-th element of list.
func elem(list string, i int) at { return at{list: list, i: i} }

// dot is the path of the element's field.
func (a at) dot(field string) at {
	a.field = field
	return a
}

func (a at) String() string {
	s := a.list
	if a.i >= 0 {
		s += "[" + strconv.Itoa(a.i) + "]"
	}
	if a.field != "" {
		s += "." + a.field
	}
	return s
}

func (p *problems) err() error {
	if len(p.list) == 0 {
		return nil
	}
	var b strings.Builder
	if len(p.list) == 1 {
		b.WriteString("1 problem:")
	} else {
		fmt.Fprintf(&b, "%d problems:", len(p.list)+p.extra)
	}
	for _, s := range p.list {
		b.WriteString("\n  - ")
		b.WriteString(s)
	}
	if p.extra > 0 {
		fmt.Fprintf(&b, "\n  - … and %d more", p.extra)
	}
	return partnerlink.Errorf(partnerlink.EINVALID, "%s", b.String())
}

// Validate checks a normalized document: well-formed ids, known references,
// sane periods, no duplicates, no management group cycles and at most one
// link per principal and tenant at any instant. It reports up to 20
// problems, each with the element's path and what would be accepted.
func Validate(doc *Document) error {
	v := validator{doc: doc}
	v.run()
	return v.p.err()
}

// ValidateVariant checks doc, a variant of base with other partners and
// links (the monthly close's world where unlinked credentials are linked),
// and marks it as valid (Validated) when it is. When base is Validated
// and doc has base's version and every other array of base, only what
// links rely on is checked again (tenants and partners, principals, the
// links); otherwise the whole of doc is, as Validate does. This spares a
// large world's role assignments a second check.
func ValidateVariant(doc, base *Document) error {
	rest := func(d *Document) shape {
		c := *d
		c.Partners, c.Links = nil, nil
		return shapeOf(&c)
	}
	v := validator{doc: doc}
	if Validated(base) && rest(doc) == rest(base) {
		v.tenantsAndPartners()
		v.principalsCheck()
		v.links()
	} else {
		v.run()
	}
	if err := v.p.err(); err != nil {
		return err
	}
	s := shapeOf(doc)
	doc.read = &s
	return nil
}

type validator struct {
	doc *Document
	p   problems

	partners   map[string]*Partner
	tenants    map[string]bool
	mgs        map[inTenant]*ManagementGroup // by lower-case name
	subs       map[string]*Subscription
	principals map[inTenant]int // by objectId: the index of its first entry
	roles      *RoleIndex
}

// inTenant keys what is named within a tenant. A struct rather than
// tenant + "/" + name, so that a lookup does not build a string.
type inTenant struct{ tenant, name string }

func (v *validator) run() {
	d := v.doc
	if d.Version != CurrentVersion {
		v.p.add(at{list: "version", i: -1}, "is %d; expected %d", d.Version, CurrentVersion)
	}
	v.tenantsAndPartners()
	v.managementGroups()
	v.subscriptions()
	v.principalsCheck()
	v.memberships()
	v.roleDefinitions()
	v.roles = NewRoleIndex(d)
	v.roleAssignments()
	v.delegations()
	v.links()
	v.powerPlatform()
}

func (v *validator) guid(path at, s string) bool {
	if !partnerlink.IsGUID(s) {
		v.p.add(path, "%q is not a GUID; expected 8-4-4-4-12 hexadecimal digits such as 0b5e2f7a-8c1d-4e3f-9a0b-1c2d3e4f5a60", s)
		return false
	}
	return true
}

func (v *validator) period(path at, from, to *time.Time) {
	if from != nil && to != nil && !from.Before(*to) {
		v.p.add(path.dot("to"), "%s is not after from %s; a period is [from, to) and must not be empty (use null for \"still in force\")",
			to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
}

func (v *validator) tenant(path at, id string) bool {
	if !v.guid(path, id) {
		return false
	}
	if !v.tenants[partnerlink.ToLower(id)] {
		v.p.add(path, "tenant %s is not listed in tenants", id)
		return false
	}
	return true
}

func (v *validator) tenantsAndPartners() {
	d := v.doc
	v.tenants = map[string]bool{}
	for i, t := range d.Tenants {
		path := elem("tenants", i)
		if !v.guid(path.dot("tenantId"), t.TenantID) {
			continue
		}
		if v.tenants[t.TenantID] {
			v.p.add(path.dot("tenantId"), "tenant %s is listed twice", t.TenantID)
		}
		v.tenants[t.TenantID] = true
	}
	v.partners = map[string]*Partner{}
	for i := range d.Partners {
		p := &d.Partners[i]
		path := elem("partners", i)
		if err := partnerlink.ValidatePartnerID(p.PartnerID); err != nil {
			v.p.add(path.dot("partnerId"), "%s", partnerlink.ErrorMessage(err))
			continue
		}
		if v.partners[p.PartnerID] != nil {
			v.p.add(path.dot("partnerId"), "partner ID %s is listed twice", p.PartnerID)
		}
		v.partners[p.PartnerID] = p
		v.period(path, p.From, p.To)
		for j, h := range p.HomeTenantIDs {
			v.guid(at{list: path.String() + ".homeTenantIds", i: j}, h)
		}
	}
	for i := range d.Partners {
		p := &d.Partners[i]
		if p.GlobalPartnerID == nil {
			continue
		}
		path := elem("partners", i).dot("globalPartnerId")
		g := v.partners[*p.GlobalPartnerID]
		switch {
		case *p.GlobalPartnerID == p.PartnerID:
			v.p.add(path, "a partner ID cannot be its own global ID; use null for a global ID")
		case g == nil:
			v.p.add(path, "global partner ID %q is not listed in partners", *p.GlobalPartnerID)
		case g.GlobalPartnerID != nil:
			v.p.add(path, "partner ID %s is itself a location ID of %s; a location ID belongs to a global ID (one with globalPartnerId null)", g.PartnerID, *g.GlobalPartnerID)
		}
	}
}

func mgKey(tenant, name string) inTenant { return inTenant{tenant, partnerlink.ToLower(name)} }

func (v *validator) managementGroups() {
	d := v.doc
	v.mgs = make(map[inTenant]*ManagementGroup, len(d.ManagementGroups))
	for i := range d.ManagementGroups {
		m := &d.ManagementGroups[i]
		path := elem("managementGroups", i)
		if !v.tenant(path.dot("tenantId"), m.TenantID) {
			continue
		}
		if err := partnerlink.CheckManagementGroupName(m.Name); err != nil {
			v.p.add(path.dot("name"), "%v", err)
			continue
		}
		k := mgKey(m.TenantID, m.Name)
		if v.mgs[k] != nil {
			v.p.add(path.dot("name"), "management group %s is listed twice in tenant %s", m.Name, m.TenantID)
		}
		v.mgs[k] = m
	}
	for i := range d.ManagementGroups {
		m := &d.ManagementGroups[i]
		if m.Parent == nil {
			continue
		}
		if v.mgs[mgKey(m.TenantID, *m.Parent)] == nil {
			v.p.add(elem("managementGroups", i).dot("parent"), "management group %q is not listed in tenant %s; expected a management group of the same tenant, or null", *m.Parent, m.TenantID)
		}
	}
	// Cycles: walk up from each group; a group met again has looped. Only
	// the groups on the loop report it (their descendants are fine once it
	// is broken).
	seen := map[inTenant]bool{}
	for i := range d.ManagementGroups {
		m := &d.ManagementGroups[i]
		start := mgKey(m.TenantID, m.Name)
		clear(seen)
		seen[start] = true
		for cur := m; cur != nil && cur.Parent != nil; {
			k := mgKey(cur.TenantID, *cur.Parent)
			if seen[k] {
				if k == start {
					v.p.add(elem("managementGroups", i).dot("parent"), "management group %s is its own ancestor (a cycle through %q); management groups form a tree", m.Name, *cur.Parent)
				}
				break
			}
			seen[k] = true
			cur = v.mgs[k]
		}
	}
}

func (v *validator) subscriptions() {
	d := v.doc
	v.subs = make(map[string]*Subscription, len(d.Subscriptions))
	for i := range d.Subscriptions {
		s := &d.Subscriptions[i]
		path := elem("subscriptions", i)
		if !v.guid(path.dot("subscriptionId"), s.SubscriptionID) {
			continue
		}
		if v.subs[s.SubscriptionID] != nil {
			v.p.add(path.dot("subscriptionId"), "subscription %s is listed twice", s.SubscriptionID)
		}
		v.subs[s.SubscriptionID] = s
		if !v.tenant(path.dot("tenantId"), s.TenantID) {
			continue
		}
		if s.ManagementGroup != nil && v.mgs[mgKey(s.TenantID, *s.ManagementGroup)] == nil {
			v.p.add(path.dot("managementGroup"), "management group %q is not listed in tenant %s; expected a management group of the subscription's tenant, or null", *s.ManagementGroup, s.TenantID)
		}
	}
}

func principalKey(tenant, object string) inTenant { return inTenant{tenant, object} }

func (v *validator) principalsCheck() {
	d := v.doc
	v.principals = make(map[inTenant]int, len(d.Principals))
	// A principal is listed once per enabled period (docs/rules.md,
	// "Principals: enabled periods"): the entries of one principal, by
	// index, are checked against each other.
	var entries map[inTenant][]int
	for i := range d.Principals {
		p := &d.Principals[i]
		path := elem("principals", i)
		okT := v.tenant(path.dot("tenantId"), p.TenantID)
		okO := v.guid(path.dot("objectId"), p.ObjectID)
		if okT && okO {
			k := principalKey(p.TenantID, p.ObjectID)
			if first, ok := v.principals[k]; !ok {
				v.principals[k] = i
			} else {
				if entries == nil {
					entries = map[inTenant][]int{}
				}
				if entries[k] == nil {
					entries[k] = []int{first}
				}
				v.samePrincipal(i, entries[k])
				entries[k] = append(entries[k], i)
			}
		}
		if !partnerlink.PrincipalType(p.Type).Valid() {
			v.p.add(path.dot("type"), "%q is not a principal type; expected User, Guest, ServicePrincipal or Group", p.Type)
		}
		if p.HomeTenantID != nil {
			v.guid(path.dot("homeTenantId"), *p.HomeTenantID)
		}
		if p.AppID != nil {
			v.guid(path.dot("appId"), *p.AppID)
		}
		if p.HomeObjectID != "" {
			v.guid(path.dot("homeObjectId"), p.HomeObjectID)
		}
		if p.Secret != "" && p.Type != string(partnerlink.PrincipalUser) && p.Type != string(partnerlink.PrincipalServicePrincipal) {
			v.p.add(path.dot("secret"), "a secret may be given only for a User or a ServicePrincipal, not a %s", p.Type)
		}
		v.period(path, p.From, p.To)
	}
}

// samePrincipal checks principals[i] against the earlier entries of the
// same principal: the same fields, and periods that do not overlap.
func (v *validator) samePrincipal(i int, earlier []int) {
	p := &v.doc.Principals[i]
	path := elem("principals", i)
	first := &v.doc.Principals[earlier[0]]
	if field, a, b := differingField(first, p); field != "" {
		v.p.add(path.dot(field), "principal %s of tenant %s is listed in principals[%d] with %s %s and here with %s; it may be listed once per enabled period, and its other fields must agree",
			p.ObjectID, p.TenantID, earlier[0], field, a, b)
	}
	per := partnerlink.PeriodOf(p.From, p.To)
	for _, j := range earlier {
		q := &v.doc.Principals[j]
		if qp := partnerlink.PeriodOf(q.From, q.To); qp.Overlaps(per) {
			v.p.add(path, "principal %s of tenant %s is listed in principals[%d] (%s) and here (%s) with overlapping periods; it may be listed once per enabled period (disabled, then enabled again), and the periods must not overlap",
				p.ObjectID, p.TenantID, j, periodWords(qp), periodWords(per))
			return
		}
	}
}

// differingField names the first field other than the period in which two
// entries of one principal differ, with both values as JSON would show
// them. A secret given on one entry only is not a difference.
func differingField(a, b *Principal) (field, aValue, bValue string) {
	q := func(s string) string { return strconv.Quote(s) }
	ptr := func(s *string) string {
		if s == nil {
			return "null"
		}
		return q(*s)
	}
	for _, f := range []struct{ name, a, b string }{
		{"type", q(a.Type), q(b.Type)},
		{"displayName", q(a.DisplayName), q(b.DisplayName)},
		{"homeTenantId", ptr(a.HomeTenantID), ptr(b.HomeTenantID)},
		{"appId", ptr(a.AppID), ptr(b.AppID)},
		{"cspDelegated", strconv.FormatBool(a.CSPDelegated), strconv.FormatBool(b.CSPDelegated)},
		{"signInName", q(a.SignInName), q(b.SignInName)},
		{"homeObjectId", q(a.HomeObjectID), q(b.HomeObjectID)},
	} {
		if f.a != f.b {
			return f.name, f.a, f.b
		}
	}
	if a.Secret != "" && b.Secret != "" && a.Secret != b.Secret {
		return "secret", "one secret", "another"
	}
	return "", "", ""
}

// periodWords describes a period in a message.
func periodWords(p partnerlink.Period) string {
	from, to := "always", "still in force"
	if !p.From.IsZero() {
		from = p.From.UTC().Format(time.RFC3339)
	}
	if !p.To.IsZero() {
		to = p.To.UTC().Format(time.RFC3339)
	}
	return "from " + from + " to " + to
}

// principal checks that id names a principal of tenant and returns it.
func (v *validator) principal(path at, tenant, id string) *Principal {
	if !v.guid(path, id) {
		return nil
	}
	i, ok := v.principals[principalKey(tenant, id)]
	if !ok {
		v.p.add(path, "principal %s is not listed in principals of tenant %s", id, tenant)
		return nil
	}
	return &v.doc.Principals[i]
}

func (v *validator) memberships() {
	type key struct{ t, g, m string }
	seen := make(map[key][]partnerlink.Period, len(v.doc.GroupMemberships))
	for i := range v.doc.GroupMemberships {
		m := &v.doc.GroupMemberships[i]
		path := elem("groupMemberships", i)
		v.period(path, m.From, m.To)
		if !v.tenant(path.dot("tenantId"), m.TenantID) {
			continue
		}
		g := v.principal(path.dot("groupId"), m.TenantID, m.GroupID)
		if g != nil && g.Type != string(partnerlink.PrincipalGroup) {
			v.p.add(path.dot("groupId"), "principal %s is a %s, not a Group", m.GroupID, g.Type)
		}
		v.principal(path.dot("memberId"), m.TenantID, m.MemberID)
		if m.GroupID == m.MemberID {
			v.p.add(path.dot("memberId"), "a group cannot be a member of itself")
		}
		k := key{m.TenantID, m.GroupID, m.MemberID}
		per := partnerlink.PeriodOf(m.From, m.To)
		for _, q := range seen[k] {
			if q.Overlaps(per) {
				v.p.add(path, "member %s is already in group %s during an overlapping period; give each membership period once", m.MemberID, m.GroupID)
				break
			}
		}
		seen[k] = append(seen[k], per)
	}
}

func (v *validator) roleDefinitions() {
	type key struct{ tenant, name string }
	names := map[key]bool{}
	ids := map[key]bool{}
	for i, r := range v.doc.RoleDefinitions {
		path := elem("roleDefinitions", i)
		if strings.TrimSpace(r.Name) == "" {
			v.p.add(path.dot("name"), "a role definition needs a name")
		} else if err := partnerlink.CheckName(r.Name); err != nil {
			v.p.add(path.dot("name"), "%v", err)
		}
		v.guid(path.dot("id"), r.ID)
		ln := key{r.TenantID, strings.ToLower(r.Name)}
		if names[ln] {
			v.p.add(path.dot("name"), "role %q is listed twice%s", r.Name, inTenantText(r.TenantID))
		}
		id := key{r.TenantID, r.ID}
		if ids[id] {
			v.p.add(path.dot("id"), "role id %s is listed twice%s", r.ID, inTenantText(r.TenantID))
		}
		names[ln], ids[id] = true, true
		byName, builtinName := partnerlink.LookupBuiltinRole(r.Name)
		byID, builtinID := partnerlink.LookupBuiltinRole(r.ID)
		if builtinName && !strings.EqualFold(byName.ID, r.ID) {
			v.p.add(path.dot("name"), "%q is a built-in role with id %s; give a custom role another name", r.Name, byName.ID)
		}
		if builtinID && !strings.EqualFold(byID.Name, r.Name) {
			v.p.add(path.dot("id"), "%s is the id of built-in role %q; give a custom role another id", r.ID, byID.Name)
		}
		switch {
		case r.TenantID != "" && builtinName && builtinID:
			v.p.add(path.dot("tenantId"), "%q is a built-in role, which every tenant has; list it without tenantId", r.Name)
		case r.TenantID != "":
			v.tenant(path.dot("tenantId"), r.TenantID)
		case !builtinName && !builtinID:
			v.p.add(path.dot("tenantId"), "custom role %q (%s) has no tenantId; expected the GUID of the tenant that owns it%s (a custom role belongs to one tenant; only built-in roles are listed without one)",
				r.Name, r.ID, v.onlyTenantHint())
		}
		for j, a := range r.Actions {
			if strings.TrimSpace(a) == "" {
				v.p.add(at{list: path.String() + ".actions", i: j}, "an action must not be empty")
			}
		}
	}
}

func inTenantText(tenant string) string {
	if tenant == "" {
		return ""
	}
	return " in tenant " + tenant
}

// onlyTenantHint suggests the document's tenant when it has exactly one.
func (v *validator) onlyTenantHint() string {
	if len(v.doc.Tenants) != 1 {
		return ""
	}
	return fmt.Sprintf(", such as \"tenantId\": %q", v.doc.Tenants[0].TenantID)
}

// role checks that ref resolves (ResolveRole) in tenant: a role assignment
// uses its tenant's roles, a delegation its customer tenant's. what names
// the referring element for the message.
func (v *validator) role(path at, tenant, ref, what string) {
	if _, ok := v.roles.Resolve(tenant, ref); ok {
		return
	}
	if other := v.roles.tenantOf(ref); other != "" {
		v.p.add(path, "role %q is a custom role of tenant %s; %s in tenant %s can use only that tenant's custom roles and the built-in ones", ref, other, what, tenant)
		return
	}
	names := []string{}
	for _, b := range partnerlink.BuiltinRoles() {
		names = append(names, b.Name)
	}
	v.p.add(path, "role %q is neither listed in roleDefinitions of tenant %s nor built in; expected a role name or GUID (built in: %s)", ref, tenant, strings.Join(names, ", "))
}

// scope checks that s is a scope inside tenant: its subscription or
// management group must be listed there.
func (v *validator) scope(path at, tenant, s string) {
	sc, err := partnerlink.ParseScope(s)
	if err != nil {
		v.p.add(path, "%s", partnerlink.ErrorMessage(err))
		return
	}
	switch sc.Kind {
	case partnerlink.ScopeRoot:
	case partnerlink.ScopeManagementGroup:
		if v.mgs[mgKey(tenant, sc.ManagementGroup)] == nil {
			v.p.add(path, "management group %q is not listed in tenant %s", sc.ManagementGroup, tenant)
		}
	default:
		sub := v.subs[sc.Subscription]
		switch {
		case sub == nil:
			v.p.add(path, "subscription %s is not listed in subscriptions", sc.Subscription)
		case sub.TenantID != tenant:
			v.p.add(path, "subscription %s belongs to tenant %s, not %s", sc.Subscription, sub.TenantID, tenant)
		}
	}
}

func (v *validator) roleAssignments() {
	type key struct{ t, id string }
	seen := make(map[key][]partnerlink.Period, len(v.doc.RoleAssignments))
	for i := range v.doc.RoleAssignments {
		a := &v.doc.RoleAssignments[i]
		path := elem("roleAssignments", i)
		v.period(path, a.From, a.To)
		okID := v.guid(path.dot("id"), a.ID)
		if !v.tenant(path.dot("tenantId"), a.TenantID) {
			continue
		}
		v.role(path.dot("roleDefinition"), a.TenantID, a.RoleDefinition, "a role assignment")
		v.principal(path.dot("principalId"), a.TenantID, a.PrincipalID)
		v.scope(path.dot("scope"), a.TenantID, a.Scope)
		if okID {
			k := key{a.TenantID, a.ID}
			per := partnerlink.PeriodOf(a.From, a.To)
			for _, q := range seen[k] {
				if q.Overlaps(per) {
					v.p.add(path.dot("id"), "role assignment %s is listed twice for overlapping periods", a.ID)
					break
				}
			}
			seen[k] = append(seen[k], per)
		}
	}
}

func (v *validator) delegations() {
	seen := make(map[string][]partnerlink.Period, len(v.doc.Delegations))
	for i := range v.doc.Delegations {
		d := &v.doc.Delegations[i]
		path := elem("delegations", i)
		v.period(path, d.From, d.To)
		if v.guid(path.dot("id"), d.ID) {
			per := partnerlink.PeriodOf(d.From, d.To)
			for _, q := range seen[d.ID] {
				if q.Overlaps(per) {
					v.p.add(path.dot("id"), "delegation %s is listed twice for overlapping periods", d.ID)
					break
				}
			}
			seen[d.ID] = append(seen[d.ID], per)
		}
		okC := v.tenant(path.dot("customerTenantId"), d.CustomerTenantID)
		okM := v.tenant(path.dot("managingTenantId"), d.ManagingTenantID)
		if okC && okM && d.CustomerTenantID == d.ManagingTenantID {
			v.p.add(path.dot("managingTenantId"), "the managing tenant must differ from the customer tenant; access within one tenant is a role assignment")
		}
		if okC {
			v.role(path.dot("roleDefinition"), d.CustomerTenantID, d.RoleDefinition, "a delegation of a scope")
			v.scope(path.dot("scope"), d.CustomerTenantID, d.Scope)
		}
		if okM {
			v.principal(path.dot("principalId"), d.ManagingTenantID, d.PrincipalID)
		}
	}
}

func (v *validator) links() {
	type key struct{ t, o string }
	type held struct {
		per partnerlink.Period
		idx int
	}
	seen := make(map[key][]held, len(v.doc.Links))
	for i := range v.doc.Links {
		l := &v.doc.Links[i]
		path := elem("links", i)
		v.period(path, l.From, l.To)
		if err := partnerlink.ValidatePartnerID(l.PartnerID); err != nil {
			v.p.add(path.dot("partnerId"), "%s", partnerlink.ErrorMessage(err))
		} else if v.partners[l.PartnerID] == nil {
			v.p.add(path.dot("partnerId"), "partner ID %s is not listed in partners", l.PartnerID)
		}
		if !v.tenant(path.dot("tenantId"), l.TenantID) {
			continue
		}
		p := v.principal(path.dot("objectId"), l.TenantID, l.ObjectID)
		if p != nil && p.CSPDelegated {
			v.p.add(path.dot("objectId"), "principal %s is CSP delegated; CSP access is attributed through the CSP channel and cannot be linked", l.ObjectID)
		}
		if p != nil && p.Type == string(partnerlink.PrincipalGroup) {
			v.p.add(path.dot("objectId"), "principal %s is a Group; only a user, guest or service principal signs in and links itself", l.ObjectID)
		}
		k := key{l.TenantID, l.ObjectID}
		per := partnerlink.PeriodOf(l.From, l.To)
		for _, h := range seen[k] {
			if h.per.Overlaps(per) {
				v.p.add(path, "principal %s already has a link in tenant %s during an overlapping period (links[%d]); a principal has at most one link per tenant at any instant", l.ObjectID, l.TenantID, h.idx)
				break
			}
		}
		seen[k] = append(seen[k], held{per, i})
	}
}

var (
	environmentTypes = []string{"Default", "Developer", "Production", "Sandbox", "Trial"}
	resourceKinds    = []string{"Bot", "CanvasApp", "CustomerInsightsInstance", "Flow", "ModelDrivenApp", "PowerBIDataset"}
	ownershipRoles   = []string{"CoOwner", "Creator", "Owner", "Publisher"}
)

func oneOf(s string, list []string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

func (v *validator) powerPlatform() {
	d := v.doc
	envs := map[string]bool{}
	for i, e := range d.Environments {
		path := elem("environments", i)
		v.tenant(path.dot("tenantId"), e.TenantID)
		if e.EnvironmentID == "" {
			v.p.add(path.dot("environmentId"), "an environment needs an id")
		} else if err := partnerlink.CheckPowerPlatformID(e.EnvironmentID); err != nil {
			v.p.add(path.dot("environmentId"), "%v", err)
		}
		k := e.TenantID + "/" + strings.ToLower(e.EnvironmentID)
		if envs[k] {
			v.p.add(path.dot("environmentId"), "environment %s is listed twice in tenant %s", e.EnvironmentID, e.TenantID)
		}
		envs[k] = true
		if !oneOf(e.Type, environmentTypes) {
			v.p.add(path.dot("type"), "%q is not an environment type; expected one of %s", e.Type, strings.Join(environmentTypes, ", "))
		}
	}
	resources := map[string]*PowerPlatformResource{}
	for i := range d.PowerPlatformResources {
		r := &d.PowerPlatformResources[i]
		path := elem("powerPlatformResources", i)
		if v.tenant(path.dot("tenantId"), r.TenantID) && !envs[r.TenantID+"/"+strings.ToLower(r.EnvironmentID)] {
			v.p.add(path.dot("environmentId"), "environment %q is not listed in environments of tenant %s", r.EnvironmentID, r.TenantID)
		}
		if r.ID == "" {
			v.p.add(path.dot("id"), "a resource needs an id")
		} else if err := partnerlink.CheckPowerPlatformID(r.ID); err != nil {
			v.p.add(path.dot("id"), "%v", err)
		}
		k := strings.ToLower(r.ID)
		if resources[k] != nil {
			v.p.add(path.dot("id"), "resource %s is listed twice", r.ID)
		}
		resources[k] = r
		if !oneOf(r.Kind, resourceKinds) {
			v.p.add(path.dot("kind"), "%q is not a resource kind; expected one of %s", r.Kind, strings.Join(resourceKinds, ", "))
		}
	}
	for i, o := range d.Ownership {
		path := elem("ownership", i)
		v.period(path, o.From, o.To)
		if !oneOf(o.Role, ownershipRoles) {
			v.p.add(path.dot("role"), "%q is not an ownership role; expected one of %s", o.Role, strings.Join(ownershipRoles, ", "))
		}
		r := resources[strings.ToLower(o.ResourceID)]
		if r == nil {
			v.p.add(path.dot("resourceId"), "resource %q is not listed in powerPlatformResources", o.ResourceID)
			continue
		}
		v.principal(path.dot("principalId"), r.TenantID, o.PrincipalID)
	}
}
