package snapshot

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/world"
)

// Changes summarizes what Apply did, for the CLI to print.
type Changes struct {
	// Tenants are the tenants the snapshot was applied to.
	Tenants []string
	// Opened, Closed and Kept count role assignment periods: opened at the
	// instant, closed at the instant, and open before and after.
	Opened, Closed, Kept    int
	PrincipalsAdded         int
	TenantsAdded            int
	SubscriptionsAdded      int
	SubscriptionsUpdated    int
	ManagementGroupsAdded   int
	ManagementGroupsUpdated int
	RoleDefinitionsAdded    int
	RoleDefinitionsUpdated  int
	// ResourceGroups counts the resource groups the snapshot lists; the
	// world document has no place for them.
	ResourceGroups int
	// OtherTenantRows counts rows of tenants Apply was told not to touch.
	OtherTenantRows int
	// Skipped counts rows Read skipped (classic administrators, other types);
	// SkippedRows says which and why.
	Skipped     int
	SkippedRows []Skipped
}

// Changed reports whether Apply changed the document.
func (c Changes) Changed() bool {
	return c.Opened+c.Closed+c.PrincipalsAdded+c.TenantsAdded+c.SubscriptionsAdded+c.SubscriptionsUpdated+
		c.ManagementGroupsAdded+c.ManagementGroupsUpdated+c.RoleDefinitionsAdded+c.RoleDefinitionsUpdated > 0
}

// String is a one-line summary such as "role assignments: 2 opened, 1
// closed, 5 kept; principals: 1 added; …", naming only what is not zero
// after the role assignments.
func (c Changes) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "role assignments: %d opened, %d closed, %d kept", c.Opened, c.Closed, c.Kept)
	part := func(what string, added, updated int) {
		if added == 0 && updated == 0 {
			return
		}
		fmt.Fprintf(&b, "; %s: %d added", what, added)
		if updated > 0 {
			fmt.Fprintf(&b, ", %d updated", updated)
		}
	}
	part("principals", c.PrincipalsAdded, 0)
	part("tenants", c.TenantsAdded, 0)
	part("subscriptions", c.SubscriptionsAdded, c.SubscriptionsUpdated)
	part("management groups", c.ManagementGroupsAdded, c.ManagementGroupsUpdated)
	part("role definitions", c.RoleDefinitionsAdded, c.RoleDefinitionsUpdated)
	if c.ResourceGroups > 0 {
		fmt.Fprintf(&b, "; %d resource groups read (not stored)", c.ResourceGroups)
	}
	if c.OtherTenantRows > 0 {
		fmt.Fprintf(&b, "; %d rows of other tenants ignored", c.OtherTenantRows)
	}
	if c.Skipped > 0 {
		fmt.Fprintf(&b, "; %d %s skipped:", c.Skipped, plural(c.Skipped, "row", "rows"))
		const shown = 3
		for i, s := range c.SkippedRows {
			if i == shown {
				fmt.Fprintf(&b, " and %d more", len(c.SkippedRows)-shown)
				break
			}
			if i > 0 {
				b.WriteString(";")
			}
			fmt.Fprintf(&b, " item %d (line %d), %s: %s", s.Item, s.Line, s.Type, s.Reason)
		}
	}
	return b.String()
}

// Apply folds snap, taken at instant at, into doc (see the package
// documentation for the rules). scopeTenants names the tenants the snapshot
// is applied to; empty means the tenants the snapshot covers. Rows of other
// tenants are ignored and counted, and nothing of other tenants changes.
//
// Apply is all-or-nothing: on error doc is unchanged. The result is
// checked with world.Validate. Applying the same snapshot again, at the
// same or a later instant, changes nothing.
func Apply(doc *world.Document, snap *Snapshot, at time.Time, scopeTenants []string) (Changes, error) {
	if doc == nil || snap == nil {
		return Changes{}, fmt.Errorf("snapshot.Apply: nil document or snapshot")
	}
	if at.IsZero() {
		return Changes{}, partnerlink.Errorf(partnerlink.EINVALID, "snapshot %s: no instant given; a snapshot is applied at the instant it was taken", snap.Name)
	}
	a := &applier{
		snap:    snap,
		at:      at.UTC(),
		covered: map[string]bool{},
	}
	tenants := snap.Tenants
	if len(scopeTenants) > 0 {
		tenants = nil
		for _, t := range scopeTenants {
			g, err := partnerlink.ParseGUID("tenant", t)
			if err != nil {
				return Changes{}, a.fail("%s", partnerlink.ErrorMessage(err))
			}
			tenants = append(tenants, g)
		}
	}
	for _, t := range tenants {
		a.covered[t] = true
	}
	for t := range a.covered {
		a.ch.Tenants = append(a.ch.Tenants, t)
	}
	slices.Sort(a.ch.Tenants)
	if len(a.covered) == 0 && (len(snap.RoleAssignments) > 0 || len(snap.Subscriptions) > 0 || len(snap.ManagementGroups) > 0) {
		return Changes{}, a.fail("the snapshot covers no tenant; name the tenant it was taken in")
	}

	// Work on a copy so that doc is untouched on error. Elements are copied
	// by value and their pointers replaced, never written through.
	w := *doc
	w.Tenants = slices.Clone(doc.Tenants)
	w.ManagementGroups = slices.Clone(doc.ManagementGroups)
	w.Subscriptions = slices.Clone(doc.Subscriptions)
	w.Principals = slices.Clone(doc.Principals)
	w.RoleDefinitions = slices.Clone(doc.RoleDefinitions)
	w.RoleAssignments = slices.Clone(doc.RoleAssignments)
	a.doc = &w

	a.ch.Skipped, a.ch.SkippedRows = len(snap.Skipped), snap.Skipped
	steps := []func() error{a.tenants, a.roleDefinitions, a.managementGroups, a.subscriptions, a.assignments}
	for _, step := range steps {
		if err := step(); err != nil {
			return Changes{}, err
		}
	}
	if err := world.Validate(&w); err != nil {
		return Changes{}, a.fail("the world document would not be valid after applying the snapshot: %s", partnerlink.ErrorMessage(err))
	}
	*doc = w
	return a.ch, nil
}

type applier struct {
	doc     *world.Document
	snap    *Snapshot
	at      time.Time
	covered map[string]bool
	ch      Changes
	// Indexes of the working document, kept up to date as rows are added,
	// so that large tenants are not quadratic.
	subIndex   map[string]int  // subscription id → index in doc.Subscriptions
	principals map[string]bool // tenant + "/" + object id
}

func (a *applier) fail(format string, args ...any) error {
	return partnerlink.Errorf(partnerlink.EINVALID, "snapshot %s: %s", a.snap.Name, fmt.Sprintf(format, args...))
}

// mine reports whether a row of tenant t is applied, counting those that
// are not.
func (a *applier) mine(t string) bool {
	if a.covered[t] {
		return true
	}
	a.ch.OtherTenantRows++
	return false
}

func (a *applier) tenants() error {
	for _, t := range a.ch.Tenants {
		if !slices.ContainsFunc(a.doc.Tenants, func(x world.Tenant) bool { return x.TenantID == t }) {
			a.doc.Tenants = append(a.doc.Tenants, world.Tenant{TenantID: t})
			a.ch.TenantsAdded++
		}
	}
	return nil
}

// roleDefinitions upserts the snapshot's role definitions into the tenant
// each belongs to (the row's, else every tenant the snapshot is applied
// to): custom roles always; Azure built-in roles the world does not know
// when an assignment of that tenant uses them, or all of them when the
// snapshot has no assignments (an export of definitions, imported for the
// assignments that follow).
func (a *applier) roleDefinitions() error {
	used := map[string]bool{} // tenant + "/" + lower-cased role reference
	for _, r := range a.snap.RoleAssignments {
		used[r.TenantID+"/"+r.RoleDefinitionID] = true
	}
	for _, r := range a.doc.RoleAssignments {
		used[r.TenantID+"/"+strings.ToLower(r.RoleDefinition)] = true
	}
	for _, d := range a.doc.Delegations {
		used[d.CustomerTenantID+"/"+strings.ToLower(d.RoleDefinition)] = true
	}
	definitionsOnly := len(a.snap.RoleAssignments) == 0
	for _, d := range a.snap.RoleDefinitions {
		if _, ok := lookupBuiltin(d.ID); ok {
			continue // every world knows it already
		}
		tenants := a.ch.Tenants
		if d.TenantID != "" {
			if !a.mine(d.TenantID) {
				continue
			}
			tenants = []string{d.TenantID}
		}
		if len(tenants) == 0 {
			return a.fail("role definition %s (item %d) names no tenant; a custom role belongs to the tenant it was defined in: name the tenant the export was taken in (partnerlink import --tenant T)", d.ID, d.Item)
		}
		if b, ok := partnerlink.LookupBuiltinRole(d.Name); ok {
			return a.fail("role definition %s (item %d) is named %q, the name of built-in role %s; a custom role needs another name", d.ID, d.Item, d.Name, b.ID)
		}
		for _, t := range tenants {
			if d.BuiltIn && !definitionsOnly && !used[t+"/"+d.ID] {
				continue
			}
			if err := a.putRole(t, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// putRole adds or updates role definition d in tenant t.
func (a *applier) putRole(t string, d RoleDefinition) error {
	want := world.RoleDefinition{TenantID: t, Name: d.Name, ID: d.ID, Actions: d.Actions, NotActions: d.NotActions, DataActions: d.DataActions}
	i := slices.IndexFunc(a.doc.RoleDefinitions, func(r world.RoleDefinition) bool {
		return r.TenantID == t && strings.EqualFold(r.ID, d.ID)
	})
	if j := slices.IndexFunc(a.doc.RoleDefinitions, func(r world.RoleDefinition) bool {
		return r.TenantID == t && strings.EqualFold(r.Name, d.Name) && !strings.EqualFold(r.ID, d.ID)
	}); j >= 0 {
		return a.fail("role definition %s (item %d) is named %q, but the document's role %s of tenant %s has that name; role names are unique in a tenant", d.ID, d.Item, d.Name, a.doc.RoleDefinitions[j].ID, t)
	}
	if i < 0 {
		a.doc.RoleDefinitions = append(a.doc.RoleDefinitions, want)
		a.ch.RoleDefinitionsAdded++
		return nil
	}
	have := a.doc.RoleDefinitions[i]
	if have.Name != want.Name || !slices.Equal(have.Actions, want.Actions) || !slices.Equal(have.NotActions, want.NotActions) || !slices.Equal(have.DataActions, want.DataActions) {
		a.doc.RoleDefinitions[i] = want
		a.ch.RoleDefinitionsUpdated++
	}
	return nil
}

func (a *applier) findMG(tenant, name string) int {
	return slices.IndexFunc(a.doc.ManagementGroups, func(m world.ManagementGroup) bool {
		return m.TenantID == tenant && strings.EqualFold(m.Name, name)
	})
}

// ensureMG adds management group name to tenant, at the top, if the
// document lacks it.
func (a *applier) ensureMG(tenant, name string) {
	if a.findMG(tenant, name) < 0 {
		a.doc.ManagementGroups = append(a.doc.ManagementGroups, world.ManagementGroup{TenantID: tenant, Name: name})
		a.ch.ManagementGroupsAdded++
	}
}

func (a *applier) managementGroups() error {
	for _, m := range a.snap.ManagementGroups {
		if !a.mine(m.TenantID) {
			continue
		}
		i := a.findMG(m.TenantID, m.Name)
		if i < 0 {
			mg := world.ManagementGroup{TenantID: m.TenantID, Name: m.Name}
			if m.ParentKnown {
				mg.Parent = m.Parent
			}
			a.doc.ManagementGroups = append(a.doc.ManagementGroups, mg)
			a.ch.ManagementGroupsAdded++
			continue
		}
		if !m.ParentKnown {
			continue
		}
		have := a.doc.ManagementGroups[i].Parent
		if (have == nil) != (m.Parent == nil) || (have != nil && !strings.EqualFold(*have, *m.Parent)) {
			a.doc.ManagementGroups[i].Parent = m.Parent
			a.ch.ManagementGroupsUpdated++
		}
	}
	// A parent the export names but does not list is added at the top.
	for _, m := range a.snap.ManagementGroups {
		if a.covered[m.TenantID] && m.ParentKnown && m.Parent != nil {
			a.ensureMG(m.TenantID, *m.Parent)
		}
	}
	return nil
}

func (a *applier) findSub(id string) int {
	if a.subIndex == nil {
		a.subIndex = map[string]int{}
		for i, s := range a.doc.Subscriptions {
			a.subIndex[s.SubscriptionID] = i
		}
	}
	if i, ok := a.subIndex[id]; ok {
		return i
	}
	return -1
}

func (a *applier) addSub(s world.Subscription) {
	a.findSub(s.SubscriptionID) // builds the index before the append
	a.doc.Subscriptions = append(a.doc.Subscriptions, s)
	a.subIndex[s.SubscriptionID] = len(a.doc.Subscriptions) - 1
	a.ch.SubscriptionsAdded++
}

func (a *applier) subscriptions() error {
	for _, s := range a.snap.Subscriptions {
		if !a.mine(s.TenantID) {
			continue
		}
		i := a.findSub(s.SubscriptionID)
		if i < 0 {
			sub := world.Subscription{SubscriptionID: s.SubscriptionID, TenantID: s.TenantID, Name: s.Name}
			if s.ManagementGroupKnown {
				sub.ManagementGroup = s.ManagementGroup
			}
			a.addSub(sub)
			continue
		}
		have := &a.doc.Subscriptions[i]
		if have.TenantID != s.TenantID {
			return a.fail("subscription %s (item %d) is in tenant %s, but the document has it in tenant %s; move it in the document first (a subscription's tenant is not changed by a snapshot)", s.SubscriptionID, s.Item, s.TenantID, have.TenantID)
		}
		changed := false
		if s.Name != "" && have.Name != s.Name {
			have.Name = s.Name
			changed = true
		}
		if s.ManagementGroupKnown {
			h, n := have.ManagementGroup, s.ManagementGroup
			if (h == nil) != (n == nil) || (h != nil && !strings.EqualFold(*h, *n)) {
				have.ManagementGroup = n
				changed = true
			}
		}
		if changed {
			a.ch.SubscriptionsUpdated++
		}
	}
	for _, rg := range a.snap.ResourceGroups {
		if a.mine(rg.TenantID) {
			a.ch.ResourceGroups++
		}
	}
	return nil
}

// ensureScope makes sure the subscription or management group an
// assignment's scope names is in the document, in the assignment's tenant.
func (a *applier) ensureScope(r RoleAssignment) (partnerlink.Scope, error) {
	sc, err := partnerlink.ParseScope(r.Scope)
	if err != nil {
		return sc, a.fail("role assignment %s (item %d): %s", r.ID, r.Item, partnerlink.ErrorMessage(err))
	}
	switch sc.Kind {
	case partnerlink.ScopeManagementGroup:
		a.ensureMG(r.TenantID, mgName(sc.Raw[strings.LastIndex(sc.Raw, "/")+1:]))
	case partnerlink.ScopeSubscription, partnerlink.ScopeResourceGroup, partnerlink.ScopeResource:
		i := a.findSub(sc.Subscription)
		if i < 0 {
			a.addSub(world.Subscription{SubscriptionID: sc.Subscription, TenantID: r.TenantID})
		} else if t := a.doc.Subscriptions[i].TenantID; t != r.TenantID {
			return sc, a.fail("role assignment %s (item %d) in tenant %s has scope %s, but subscription %s is in tenant %s in the document", r.ID, r.Item, r.TenantID, r.Scope, sc.Subscription, t)
		}
	}
	return sc, nil
}

// ensurePrincipal adds the assignment's principal to its tenant when the
// document lacks it.
func (a *applier) ensurePrincipal(r RoleAssignment) error {
	if a.principals == nil {
		a.principals = map[string]bool{}
		for _, p := range a.doc.Principals {
			a.principals[p.TenantID+"/"+p.ObjectID] = true
		}
	}
	key := r.TenantID + "/" + r.PrincipalID
	if a.principals[key] {
		return nil
	}
	p := world.Principal{TenantID: r.TenantID, ObjectID: r.PrincipalID, DisplayName: r.PrincipalName}
	switch r.PrincipalType {
	case "User":
		p.Type = string(partnerlink.PrincipalUser)
		// A guest's UPN in the inviting tenant is mangled to
		// name_home.example#EXT#@tenant.onmicrosoft.com.
		if strings.Contains(strings.ToUpper(r.PrincipalName), "#EXT#") {
			p.Type = string(partnerlink.PrincipalGuest)
		}
	case "ServicePrincipal":
		p.Type = string(partnerlink.PrincipalServicePrincipal)
	case "Group":
		p.Type = string(partnerlink.PrincipalGroup)
	case "ForeignGroup":
		// A group of another tenant: in a customer tenant these are the CSP
		// partner's AdminAgents/HelpdeskAgents and GDAP groups (docs/rules.md#azure-attribution).
		p.Type = string(partnerlink.PrincipalGroup)
		p.CSPDelegated = true
	default:
		return a.fail("role assignment %s (item %d): principal %s is not in the document and the snapshot does not say its type; add the principal to the document, or export with principalType", r.ID, r.Item, r.PrincipalID)
	}
	a.doc.Principals = append(a.doc.Principals, p)
	a.principals[key] = true
	a.ch.PrincipalsAdded++
	return nil
}

// roleID resolves a document role reference of tenant to its GUID.
func (a *applier) roleID(roles *world.RoleIndex, tenant, ref string) string {
	if r, ok := roles.Resolve(tenant, ref); ok {
		return r.ID
	}
	return ""
}

func (a *applier) assignments() error {
	var mine []RoleAssignment
	var unknownRoles []string
	roles := world.NewRoleIndex(a.doc) // roleDefinitions ran before
	for _, r := range a.snap.RoleAssignments {
		if !a.mine(r.TenantID) {
			continue
		}
		if _, ok := roles.Resolve(r.TenantID, r.RoleDefinitionID); !ok {
			desc := r.RoleDefinitionID
			if r.RoleDefinitionName != "" {
				desc += fmt.Sprintf(" (%q)", r.RoleDefinitionName)
			}
			if !slices.Contains(unknownRoles, desc) {
				unknownRoles = append(unknownRoles, desc)
			}
			continue
		}
		mine = append(mine, r)
	}
	if len(unknownRoles) > 0 {
		slices.Sort(unknownRoles)
		return a.fail("role definitions %s are neither built in nor in the document for the assignments' tenant; import their definitions first (az role definition list, or Resource Graph rows of type microsoft.authorization/roledefinitions), so that what they allow is known", strings.Join(unknownRoles, ", "))
	}
	for _, r := range mine {
		if _, err := a.ensureScope(r); err != nil {
			return err
		}
		if err := a.ensurePrincipal(r); err != nil {
			return err
		}
	}
	scopeCovered, err := a.scopeCoverage()
	if err != nil {
		return err
	}

	// A tenant's assignments are compared only when the snapshot lists some
	// of them: an export of containers or definitions only says nothing
	// about assignments, and must not close them all.
	listed := map[string]bool{}
	for _, r := range mine {
		listed[r.TenantID] = true
	}

	// Index the document's rows of the listed tenants by assignment id.
	rows := map[string][]int{}
	for i, r := range a.doc.RoleAssignments {
		if listed[r.TenantID] {
			k := r.TenantID + "/" + r.ID
			rows[k] = append(rows[k], i)
		}
	}
	seen := map[int]bool{} // open rows the snapshot accounts for
	var added []world.RoleAssignment
	for _, r := range mine {
		k := r.TenantID + "/" + r.ID
		kept := false
		for _, i := range rows[k] {
			d := a.doc.RoleAssignments[i]
			if d.To != nil {
				continue
			}
			seen[i] = true
			if d.PrincipalID == r.PrincipalID && a.roleID(roles, d.TenantID, d.RoleDefinition) == r.RoleDefinitionID && sameScope(d.Scope, r.Scope) {
				kept = true
				continue
			}
			// Same id, other contents: the old assignment ended and this
			// one began.
			if err := a.close(i); err != nil {
				return err
			}
		}
		if kept {
			a.ch.Kept++
			continue
		}
		for _, i := range rows[k] {
			d := a.doc.RoleAssignments[i]
			if d.To != nil && d.To.After(a.at) {
				return a.fail("role assignment %s was in force until %s in the document, after the snapshot's instant %s; apply snapshots in time order", r.ID, d.To.Format(time.RFC3339), a.at.Format(time.RFC3339))
			}
		}
		from := a.at
		added = append(added, world.RoleAssignment{
			TenantID:       r.TenantID,
			ID:             r.ID,
			PrincipalID:    r.PrincipalID,
			RoleDefinition: r.RoleDefinition,
			Scope:          r.Scope,
			From:           &from,
		})
		a.ch.Opened++
	}
	// What is open, covered and not in the snapshot has disappeared.
	for i, d := range a.doc.RoleAssignments {
		if d.To != nil || seen[i] || !listed[d.TenantID] || !scopeCovered(d.Scope) {
			continue
		}
		if err := a.close(i); err != nil {
			return err
		}
	}
	a.doc.RoleAssignments = append(a.doc.RoleAssignments, added...)
	return nil
}

// close ends open row i at the snapshot's instant.
func (a *applier) close(i int) error {
	d := &a.doc.RoleAssignments[i]
	if d.From != nil && !d.From.Before(a.at) {
		return a.fail("role assignment %s began at %s in the document, not before the snapshot's instant %s; apply snapshots in time order", d.ID, d.From.Format(time.RFC3339), a.at.Format(time.RFC3339))
	}
	to := a.at
	d.To = &to
	a.ch.Closed++
	return nil
}

// scopeCoverage returns whether the snapshot speaks for an assignment at a
// scope: a Resource Graph snapshot for every scope of its tenants; an az
// role assignment list only for scopes in the subscriptions it was listed
// in, the management groups above them and the tenant root.
func (a *applier) scopeCoverage() (func(string) bool, error) {
	if a.snap.Format != FormatAzRoleAssignments {
		return func(string) bool { return true }, nil
	}
	subs := map[string]bool{}
	mgs := map[string]bool{}
	for _, s := range a.snap.CoveredSubscriptions {
		subs[s] = true
		i := a.findSub(s)
		if i < 0 {
			continue
		}
		sub := a.doc.Subscriptions[i]
		// Walk up the management group tree; the bound stops a cycle.
		parent := sub.ManagementGroup
		for n := 0; parent != nil && n <= len(a.doc.ManagementGroups); n++ {
			mgs[sub.TenantID+"/"+strings.ToLower(*parent)] = true
			j := a.findMG(sub.TenantID, *parent)
			if j < 0 {
				break
			}
			parent = a.doc.ManagementGroups[j].Parent
		}
	}
	return func(scope string) bool {
		sc, err := partnerlink.ParseScope(scope)
		if err != nil {
			return false
		}
		switch sc.Kind {
		case partnerlink.ScopeRoot:
			return len(subs) > 0
		case partnerlink.ScopeManagementGroup:
			for k := range mgs {
				if strings.HasSuffix(k, "/"+sc.ManagementGroup) {
					return true
				}
			}
			return false
		}
		return subs[sc.Subscription]
	}, nil
}

func sameScope(a, b string) bool {
	sa, errA := partnerlink.ParseScope(a)
	sb, errB := partnerlink.ParseScope(b)
	if errA != nil || errB != nil {
		return strings.EqualFold(a, b)
	}
	return sa.Key == sb.Key
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
