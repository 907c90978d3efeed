package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// Resource Graph row types this import reads (Resource Graph writes types
// lower-case; they are compared case-insensitively all the same).
const (
	argRoleAssignment  = "microsoft.authorization/roleassignments"
	argRoleDefinition  = "microsoft.authorization/roledefinitions"
	argSubscription    = "microsoft.resources/subscriptions"
	argResourceGroup   = "microsoft.resources/subscriptions/resourcegroups"
	argManagementGroup = "microsoft.management/managementgroups"
)

// readResourceGraph reads Azure Resource Graph rows of the
// authorizationresources and resourcecontainers tables. Every row has the
// common columns id, name, type, tenantId, subscriptionId, resourceGroup,
// properties (…); the type says which of the row kinds it is. Rows of
// other types are skipped and reported.
func (rd *reader) readResourceGraph(snap *Snapshot, items []item, objs []map[string]json.RawMessage) error {
	tenants := map[string]bool{}
	// Management groups named only in subscriptions' ancestor chains, to be
	// added when no management group row speaks for them.
	var chainMGs []ManagementGroup
	for i, it := range items {
		m := objs[i]
		typ := strings.ToLower(jsonString(m["type"]))
		switch typ {
		case argRoleAssignment, argSubscription, argResourceGroup, argManagementGroup:
		case argRoleDefinition:
			// A custom role is its tenant's; a row without tenantId is
			// the default tenant's, or left to Apply.
			d, err := rd.definition(it, m, "properties.", "type")
			if err != nil {
				return err
			}
			if d.TenantID, err = rd.optionalTenant(it, m["tenantId"], "tenantId"); err != nil {
				return err
			}
			if d.TenantID != "" {
				tenants[d.TenantID] = true
			}
			snap.RoleDefinitions = append(snap.RoleDefinitions, d)
			continue
		default:
			snap.Skipped = append(snap.Skipped, Skipped{Item: it.index, Line: it.line, Type: typ,
				Reason: "not a role assignment, role definition, subscription, resource group or management group"})
			continue
		}
		tenant, err := rd.tenant(it, m["tenantId"], "tenantId")
		if err != nil {
			return err
		}
		tenants[tenant] = true
		switch typ {
		case argRoleAssignment:
			a, err := rd.argAssignment(it, m, tenant)
			if err != nil {
				return err
			}
			snap.RoleAssignments = append(snap.RoleAssignments, a)
		case argSubscription:
			s, chain, err := rd.argSubscription(it, m, tenant)
			if err != nil {
				return err
			}
			snap.Subscriptions = append(snap.Subscriptions, s)
			chainMGs = append(chainMGs, chain...)
		case argResourceGroup:
			sub, err := rd.guidField(it, m, "subscriptionId", "subscriptionId", "the resource group's subscription id")
			if err != nil {
				return err
			}
			name, err := rd.requiredString(it, m, "name", "name", "the resource group's name")
			if err != nil {
				return err
			}
			snap.ResourceGroups = append(snap.ResourceGroups, ResourceGroup{TenantID: tenant, SubscriptionID: sub, Name: name, Item: it.index})
		case argManagementGroup:
			mg, err := rd.argManagementGroup(it, m, tenant)
			if err != nil {
				return err
			}
			snap.ManagementGroups = append(snap.ManagementGroups, mg)
		}
	}
	// Chains fill in the management groups no row of their own describes;
	// the first chain to name a group gives its parent.
	known := map[string]bool{}
	for _, mg := range snap.ManagementGroups {
		known[mg.TenantID+"/"+strings.ToLower(mg.Name)] = true
	}
	for _, mg := range chainMGs {
		k := mg.TenantID + "/" + strings.ToLower(mg.Name)
		if !known[k] {
			known[k] = true
			snap.ManagementGroups = append(snap.ManagementGroups, mg)
		}
	}
	for t := range tenants {
		snap.Tenants = append(snap.Tenants, t)
	}
	slices.Sort(snap.Tenants)
	return nil
}

// argAssignment reads an authorizationresources role assignment row:
// name (the GUID), properties.principalId, principalType,
// roleDefinitionId and scope.
func (rd *reader) argAssignment(it item, m map[string]json.RawMessage, tenant string) (RoleAssignment, error) {
	a := RoleAssignment{TenantID: tenant, Item: it.index}
	id, _, _ := stringField(m["id"])
	var err error
	if a.ID, err = rd.assignmentName(it, m, id); err != nil {
		return a, err
	}
	p, err := rd.object(it, m, "properties", "properties")
	if err != nil {
		return a, err
	}
	if p == nil {
		return a, rd.failItem(it, "properties", "is missing; expected the assignment's principalId, principalType, roleDefinitionId and scope")
	}
	if a.PrincipalID, err = rd.guidField(it, p, "principalId", "properties.principalId", "the assigned principal's object id"); err != nil {
		return a, err
	}
	pt, err := rd.optionalString(it, p, "principalType", "properties.principalType")
	if err != nil {
		return a, err
	}
	if a.PrincipalType, err = rd.principalType(it, pt, "properties.principalType"); err != nil {
		return a, err
	}
	rdRaw, err := rd.requiredString(it, p, "roleDefinitionId", "properties.roleDefinitionId", "the role definition's resource id")
	if err != nil {
		return a, err
	}
	if a.RoleDefinitionID, _, err = rd.roleDefinitionID(it, rdRaw, "properties.roleDefinitionId"); err != nil {
		return a, err
	}
	a.RoleDefinition = roleRef(a.RoleDefinitionID)
	scopeRaw, err := rd.requiredString(it, p, "scope", "properties.scope", "the assignment's scope")
	if err != nil {
		return a, err
	}
	sc, err := rd.scope(it, scopeRaw, "properties.scope")
	if err != nil {
		return a, err
	}
	a.Scope = sc.Raw
	return a, nil
}

// argSubscription reads a resourcecontainers subscription row:
// subscriptionId, name (the display name) and
// properties.managementGroupAncestorsChain ([{name, displayName}], nearest
// first). It also returns the management groups the chain names, each with
// the next one as its parent.
func (rd *reader) argSubscription(it item, m map[string]json.RawMessage, tenant string) (Subscription, []ManagementGroup, error) {
	s := Subscription{TenantID: tenant, Item: it.index}
	var err error
	if s.SubscriptionID, err = rd.guidField(it, m, "subscriptionId", "subscriptionId", "the subscription's id"); err != nil {
		return s, nil, err
	}
	if s.Name, err = rd.optionalString(it, m, "name", "name"); err != nil {
		return s, nil, err
	}
	p, err := rd.object(it, m, "properties", "properties")
	if err != nil {
		return s, nil, err
	}
	raw, present := p["managementGroupAncestorsChain"]
	if !present {
		// The export left the chain out: the subscription's place is unknown,
		// not "under no group".
		return s, nil, nil
	}
	s.ManagementGroupKnown = true
	if string(raw) == "null" {
		return s, nil, nil
	}
	var chain []struct {
		Name        *string `json:"name"`
		DisplayName string  `json:"displayName"`
	}
	if err := json.Unmarshal(raw, &chain); err != nil {
		return s, nil, rd.failItem(it, "properties.managementGroupAncestorsChain", "is not [{\"name\": …, \"displayName\": …}] (nearest group first): %v", err)
	}
	var mgs []ManagementGroup
	for j, c := range chain {
		if c.Name == nil || strings.TrimSpace(*c.Name) == "" || strings.Contains(*c.Name, "/") {
			return s, nil, rd.failItem(it, fmt.Sprintf("properties.managementGroupAncestorsChain[%d].name", j), "is missing or not a management group name; expected the group's name (its id), without \"/\"")
		}
		mg := ManagementGroup{TenantID: tenant, Name: mgName(*c.Name), DisplayName: c.DisplayName, ParentKnown: true, Item: it.index}
		if j+1 < len(chain) && chain[j+1].Name != nil {
			parent := mgName(*chain[j+1].Name)
			mg.Parent = &parent
		}
		mgs = append(mgs, mg)
	}
	if len(mgs) > 0 {
		direct := mgs[0].Name
		s.ManagementGroup = &direct
	}
	return s, mgs, nil
}

// argManagementGroup reads a resourcecontainers management group row:
// name, properties.displayName and properties.details.parent ({id, name,
// displayName}, null for the tenant root group).
func (rd *reader) argManagementGroup(it item, m map[string]json.RawMessage, tenant string) (ManagementGroup, error) {
	mg := ManagementGroup{TenantID: tenant, Item: it.index}
	name, err := rd.requiredString(it, m, "name", "name", "the management group's name (its id)")
	if err != nil {
		return mg, err
	}
	if strings.Contains(name, "/") {
		return mg, rd.failItem(it, "name", "%q is not a management group name; expected a name without \"/\"", name)
	}
	mg.Name = mgName(name)
	p, err := rd.object(it, m, "properties", "properties")
	if err != nil {
		return mg, err
	}
	if mg.DisplayName, err = rd.optionalString(it, p, "displayName", "properties.displayName"); err != nil {
		return mg, err
	}
	details, err := rd.object(it, p, "details", "properties.details")
	if err != nil {
		return mg, err
	}
	if details == nil {
		// No details: the export does not say where the group sits.
		return mg, nil
	}
	if _, ok := details["parent"]; !ok {
		// details without parent says nothing about where the group sits
		// (the root group's parent is an explicit null).
		return mg, nil
	}
	mg.ParentKnown = true
	parent, err := rd.object(it, details, "parent", "properties.details.parent")
	if err != nil || parent == nil {
		return mg, err
	}
	pname, err := rd.optionalString(it, parent, "name", "properties.details.parent.name")
	if err != nil {
		return mg, err
	}
	if pname == "" {
		// The parent's id ends in its name.
		pid, err := rd.optionalString(it, parent, "id", "properties.details.parent.id")
		if err != nil {
			return mg, err
		}
		sc, perr := partnerlink.ParseScope(pid)
		if perr != nil || sc.Kind != partnerlink.ScopeManagementGroup {
			return mg, rd.failItem(it, "properties.details.parent", "names no management group; expected {\"name\": …} or {\"id\": \"/providers/Microsoft.Management/managementGroups/{name}\"}, or null at the top")
		}
		pname = sc.Raw[strings.LastIndex(sc.Raw, "/")+1:]
	}
	pn := mgName(pname)
	mg.Parent = &pn
	return mg, nil
}

// mgName lower-cases a management group name that is a GUID (the tenant
// root group is named after the tenant): GUIDs are written lower-case.
// Other names keep their casing.
func mgName(s string) string {
	if partnerlink.IsGUID(s) {
		return strings.ToLower(s)
	}
	return s
}
