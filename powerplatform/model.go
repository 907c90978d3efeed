package powerplatform

import (
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// OwnershipRecord is one ownership period of one resource, as the world
// document lists them.
type OwnershipRecord struct {
	ResourceID string
	Holding
}

// Input is the small, temporal part of the world the rule needs: the
// directory's principals and partner IDs, links, environments, resources
// and ownership history.
type Input struct {
	Partners     []partnerlink.Partner
	Principals   []partnerlink.Principal
	Links        []partnerlink.Link
	Environments []Environment
	Resources    []Resource
	Ownership    []OwnershipRecord
}

// FromWorld takes what the rule needs from a world document, checking the
// fields it uses. Messages name the list and index of the bad entry.
func FromWorld(doc *world.Document) (Input, error) {
	var in Input
	bad := func(list string, i int, err error) error {
		return partnerlink.Errorf(partnerlink.EINVALID, "world: %s[%d]: %s", list, i, partnerlink.ErrorMessage(err))
	}
	for i, p := range doc.Partners {
		if err := partnerlink.ValidatePartnerID(p.PartnerID); err != nil {
			return Input{}, bad("partners", i, err)
		}
		global := ""
		if p.GlobalPartnerID != nil {
			global = *p.GlobalPartnerID
		}
		in.Partners = append(in.Partners, partnerlink.Partner{ID: p.PartnerID, Name: p.Name, GlobalID: global, Period: partnerlink.PeriodOf(p.From, p.To)})
	}
	for i, p := range doc.Principals {
		tenant, err := partnerlink.ParseGUID("tenantId", p.TenantID)
		if err != nil {
			return Input{}, bad("principals", i, err)
		}
		obj, err := partnerlink.ParseGUID("objectId", p.ObjectID)
		if err != nil {
			return Input{}, bad("principals", i, err)
		}
		t := partnerlink.PrincipalType(p.Type)
		if !t.Valid() {
			return Input{}, bad("principals", i, partnerlink.Errorf(partnerlink.EINVALID, "type %q is not one of User, Guest, ServicePrincipal, Group", p.Type))
		}
		in.Principals = append(in.Principals, partnerlink.Principal{TenantID: tenant, ObjectID: obj, Type: t, DisplayName: p.DisplayName, Period: partnerlink.PeriodOf(p.From, p.To)})
	}
	for i, l := range doc.Links {
		tenant, err := partnerlink.ParseGUID("tenantId", l.TenantID)
		if err != nil {
			return Input{}, bad("links", i, err)
		}
		obj, err := partnerlink.ParseGUID("objectId", l.ObjectID)
		if err != nil {
			return Input{}, bad("links", i, err)
		}
		if err := partnerlink.ValidatePartnerID(l.PartnerID); err != nil {
			return Input{}, bad("links", i, err)
		}
		in.Links = append(in.Links, partnerlink.Link{TenantID: tenant, ObjectID: obj, PartnerID: l.PartnerID, Period: partnerlink.PeriodOf(l.From, l.To)})
	}
	for i, e := range doc.Environments {
		tenant, err := partnerlink.ParseGUID("tenantId", e.TenantID)
		if err != nil {
			return Input{}, bad("environments", i, err)
		}
		t, err := ParseEnvironmentType(e.Type)
		if err != nil {
			return Input{}, bad("environments", i, err)
		}
		in.Environments = append(in.Environments, Environment{TenantID: tenant, ID: e.EnvironmentID, Type: t})
	}
	for i, r := range doc.PowerPlatformResources {
		tenant, err := partnerlink.ParseGUID("tenantId", r.TenantID)
		if err != nil {
			return Input{}, bad("powerPlatformResources", i, err)
		}
		k, err := ParseKind(r.Kind)
		if err != nil {
			return Input{}, bad("powerPlatformResources", i, err)
		}
		in.Resources = append(in.Resources, Resource{TenantID: tenant, EnvironmentID: r.EnvironmentID, ID: r.ID, Kind: k, Paid: r.Paid})
	}
	for i, o := range doc.Ownership {
		id, err := partnerlink.ParseGUID("principalId", o.PrincipalID)
		if err != nil {
			return Input{}, bad("ownership", i, err)
		}
		role, err := ParseRole(o.Role)
		if err != nil {
			return Input{}, bad("ownership", i, err)
		}
		in.Ownership = append(in.Ownership, OwnershipRecord{ResourceID: o.ResourceID, Holding: Holding{PrincipalID: id, Role: role, Period: partnerlink.PeriodOf(o.From, o.To)}})
	}
	return in, nil
}

// modelResource is a resource with its environment and history.
type modelResource struct {
	Resource
	env     Environment
	history History
}

// linkPeriod is one period of a principal's link, with the start of its
// unbroken chain to the same partner ID (its creation, for the tie-break).
type linkPeriod struct {
	partnerID string
	period    partnerlink.Period
	created   time.Time
}

type principalInfo struct {
	typ     partnerlink.PrincipalType
	name    string
	periods []partnerlink.Period
}

// Model is the world, indexed for the rule. It does not change once built.
type Model struct {
	resources map[string]*modelResource // lower-cased id
	ordered   []*modelResource          // by id, for deterministic runs
	// links by tenant + "/" + object id, each list sorted by start.
	links      map[string][]linkPeriod
	principals map[string]*principalInfo // tenant + "/" + object id
	partners   map[string][]partnerlink.Period
	// linked lists, per tenant, the object ids that ever had a link there,
	// sorted: the only users who can make a partner a candidate.
	linked map[string][]string
}

func principalKey(tenant, object string) string { return tenant + "/" + object }

// NewModel indexes in and checks what the rule relies on: every resource in
// a known environment of its tenant, ids unique, every ownership record on a
// known resource and every history within its kind's limits.
func NewModel(in Input) (*Model, error) {
	m := &Model{
		resources:  map[string]*modelResource{},
		links:      map[string][]linkPeriod{},
		principals: map[string]*principalInfo{},
		partners:   map[string][]partnerlink.Period{},
		linked:     map[string][]string{},
	}
	// A location ID is a candidate only while its global ID is active too
	// (docs/rules.md, "Power Platform"): its periods are cut to the global's.
	globalPeriods := map[string][]partnerlink.Period{}
	for _, p := range in.Partners {
		if p.GlobalID == "" {
			globalPeriods[p.ID] = append(globalPeriods[p.ID], p.Period)
		}
	}
	for _, p := range in.Partners {
		if p.GlobalID == "" {
			m.partners[p.ID] = append(m.partners[p.ID], p.Period)
			continue
		}
		for _, g := range globalPeriods[p.GlobalID] {
			if per, ok := p.Period.Intersect(g); ok {
				m.partners[p.ID] = append(m.partners[p.ID], per)
			}
		}
	}
	for _, p := range in.Principals {
		k := principalKey(strings.ToLower(p.TenantID), strings.ToLower(p.ObjectID))
		info := m.principals[k]
		if info == nil {
			info = &principalInfo{typ: p.Type, name: p.DisplayName}
			m.principals[k] = info
		}
		// A principal disabled and enabled again has several periods: a
		// record's Earlier ones, or one record per period (docs/rules.md,
		// "Principals: enabled periods").
		info.periods = append(info.periods, p.Periods()...)
	}
	envs := map[string]Environment{}
	for _, e := range in.Environments {
		k := principalKey(strings.ToLower(e.TenantID), key(e.ID))
		if _, dup := envs[k]; dup {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "environment %s of tenant %s is listed twice", e.ID, e.TenantID)
		}
		envs[k] = e
	}
	for _, r := range in.Resources {
		r.TenantID = strings.ToLower(r.TenantID)
		if r.ID == "" {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "a %s has no id", noun(r.Kind))
		}
		if _, err := ParseKind(string(r.Kind)); err != nil {
			return nil, err
		}
		if _, dup := m.resources[key(r.ID)]; dup {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "resource %s is listed twice; resource ids are unique", r.ID)
		}
		env, ok := envs[principalKey(r.TenantID, key(r.EnvironmentID))]
		if !ok {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "%s %s is in environment %s, which tenant %s does not have; list the environment under environments", noun(r.Kind), r.ID, r.EnvironmentID, r.TenantID)
		}
		mr := &modelResource{Resource: r, env: env}
		m.resources[key(r.ID)] = mr
		m.ordered = append(m.ordered, mr)
	}
	slices.SortFunc(m.ordered, func(a, b *modelResource) int { return strings.Compare(a.ID, b.ID) })
	for _, o := range in.Ownership {
		mr, ok := m.resources[key(o.ResourceID)]
		if !ok {
			return nil, partnerlink.Errorf(partnerlink.EINVALID, "ownership names resource %s, which is not among the Power Platform resources", o.ResourceID)
		}
		h := o.Holding
		h.PrincipalID = strings.ToLower(h.PrincipalID)
		mr.history = append(mr.history, h)
	}
	for _, mr := range m.ordered {
		if err := ValidateHistory(mr.Resource, mr.history); err != nil {
			return nil, err
		}
	}
	m.indexLinks(in.Links)
	return m, nil
}

// indexLinks groups link periods per principal, computes each period's
// creation time and the per-tenant list of linked principals.
func (m *Model) indexLinks(links []partnerlink.Link) {
	for _, l := range links {
		t, o := strings.ToLower(l.TenantID), strings.ToLower(l.ObjectID)
		k := principalKey(t, o)
		if _, ok := m.links[k]; !ok {
			m.linked[t] = append(m.linked[t], o)
		}
		m.links[k] = append(m.links[k], linkPeriod{partnerID: l.PartnerID, period: l.Period})
	}
	for k, ls := range m.links {
		slices.SortStableFunc(ls, func(a, b linkPeriod) int { return a.period.From.Compare(b.period.From) })
		for i := range ls {
			ls[i].created = ls[i].period.From
			// A period that starts where the previous one to the same
			// partner ID ended is a re-affirmation: the link is as old as
			// the chain.
			if i > 0 && ls[i-1].partnerID == ls[i].partnerID && !ls[i-1].period.To.IsZero() && ls[i-1].period.To.Equal(ls[i].period.From) {
				ls[i].created = ls[i-1].created
			}
		}
		m.links[k] = ls
	}
	for t := range m.linked {
		slices.Sort(m.linked[t])
	}
}

// Resource returns the resource with id (compared case-insensitively).
func (m *Model) Resource(id string) (Resource, bool) {
	mr, ok := m.resources[key(id)]
	if !ok {
		return Resource{}, false
	}
	return mr.Resource, true
}

// History returns a copy of the ownership history of resource id.
func (m *Model) History(id string) History {
	mr, ok := m.resources[key(id)]
	if !ok {
		return nil
	}
	return slices.Clone(mr.history)
}

// Environment returns the environment of resource id.
func (m *Model) Environment(id string) (Environment, bool) {
	mr, ok := m.resources[key(id)]
	if !ok {
		return Environment{}, false
	}
	return mr.env, true
}

// eligible reports whether r is program-eligible: a paid resource in a
// Production environment (docs/rules.md#power-platform).
func (mr *modelResource) eligible() bool {
	return mr.env.Type == Production && mr.Paid
}

// Summary accounts for every row read: rows on resources the world does not
// list are counted here, never dropped silently.
type Summary struct {
	ActivityRows     int64
	ProfileRows      int64
	UnknownResources []UnknownResource // sorted by id
}

// UnknownResource is a resource seen in activity or profile rows that the
// world does not list.
type UnknownResource struct {
	ID       string
	TenantID string
	Rows     int64 // activity rows
	Profiles int   // profile rows
}

// Check verifies that the activity agrees with the world (each resource's
// tenant) and summarises what it holds.
func (m *Model) Check(a *Activity) (Summary, error) {
	if a == nil {
		// No activity at all: every metric is 0.
		return Summary{}, nil
	}
	s := Summary{ActivityRows: a.rows, ProfileRows: a.profRows}
	for _, r := range a.resources {
		mr, ok := m.resources[key(r.id)]
		if !ok {
			s.UnknownResources = append(s.UnknownResources, UnknownResource{ID: r.id, TenantID: formatGUID(r.tenant), Rows: r.rows, Profiles: len(r.profiles)})
			continue
		}
		if t := formatGUID(r.tenant); t != mr.TenantID {
			return Summary{}, partnerlink.Errorf(partnerlink.EINVALID, "%s: resource %s is in tenant %s there, but the world puts it in tenant %s", r.where, r.id, t, mr.TenantID)
		}
		if len(r.profiles) > 0 && mr.Kind != CustomerInsightsInstance {
			ms := make([]Month, 0, len(r.profiles))
			for mo := range r.profiles {
				ms = append(ms, mo)
			}
			slices.Sort(ms)
			return Summary{}, partnerlink.Errorf(partnerlink.EINVALID, "%s: unified profiles are reported for %s %s, but only Customer Insights instances have them", r.profiles[ms[0]].where, noun(mr.Kind), mr.ID)
		}
	}
	slices.SortFunc(s.UnknownResources, func(a, b UnknownResource) int { return strings.Compare(a.ID, b.ID) })
	return s, nil
}
