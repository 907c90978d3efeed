package snapshot

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/partnerlink/partnerlink"
)

// lookupBuiltin returns the name of the built-in role with this GUID, if it
// is one every world knows.
func lookupBuiltin(guid string) (string, bool) {
	if b, ok := partnerlink.LookupBuiltinRole(guid); ok && strings.EqualFold(b.ID, guid) {
		return b.Name, true
	}
	return "", false
}

// principalTypes are the principalType values Azure RBAC gives role
// assignments of users, groups, service principals (managed identities
// included) and foreign groups.
var principalTypes = []string{"ForeignGroup", "Group", "ServicePrincipal", "User"}

// principalType checks an Azure principalType (empty when absent).
func (rd *reader) principalType(it item, s, path string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, t := range principalTypes {
		if strings.EqualFold(s, t) {
			return t, nil
		}
	}
	return "", rd.failItem(it, path, "%q is not a principal type this import reads; expected one of %s", s, strings.Join(principalTypes, ", "))
}

// readAzAssignments reads `az role assignment list` rows. The shape is
// azure-cli's (role module custom.py, list_role_assignments): the
// RoleAssignment model flattened by todict (id, name, type, scope,
// roleDefinitionId, principalId, principalType, condition, createdOn, …)
// plus roleDefinitionName and principalName; before the 2020 API those
// fields sat under "properties". The rows carry no tenant.
func (rd *reader) readAzAssignments(snap *Snapshot, items []item, objs []map[string]json.RawMessage) error {
	covered := map[string]bool{}
	for i, it := range items {
		m := objs[i]
		id, _, _ := stringField(m["id"])
		props := m
		prefix := ""
		if _, flat := m["principalId"]; !flat {
			if _, flat := m["roleDefinitionId"]; !flat {
				p, err := rd.object(it, m, "properties", "properties")
				if err != nil {
					return err
				}
				if p == nil {
					return rd.failItem(it, "properties", "is missing; expected principalId, roleDefinitionId and scope at the top of the row or under properties")
				}
				props, prefix = p, "properties."
			}
		}
		roleDefID, _, _ := stringField(props["roleDefinitionId"])
		// --include-classic-administrators adds the subscription's classic
		// administrators as pseudo-assignments with no GUID and no role
		// definition; they are not Azure RBAC role assignments.
		if strings.HasPrefix(id, "NA(") || strings.HasPrefix(roleDefID, "NA(") {
			snap.Skipped = append(snap.Skipped, Skipped{Item: it.index, Line: it.line, Type: "classic administrator",
				Reason: "classic administrators (--include-classic-administrators) are not role assignments"})
			continue
		}
		tenant, err := rd.tenant(it, nil, "tenantId")
		if err != nil {
			return err
		}
		name, err := rd.assignmentName(it, m, id)
		if err != nil {
			return err
		}
		principal, err := rd.guidField(it, props, "principalId", prefix+"principalId", "the assigned principal's object id")
		if err != nil {
			return err
		}
		ptRaw, err := rd.optionalString(it, props, "principalType", prefix+"principalType")
		if err != nil {
			return err
		}
		pt, err := rd.principalType(it, ptRaw, prefix+"principalType")
		if err != nil {
			return err
		}
		pname, err := rd.optionalString(it, props, "principalName", prefix+"principalName")
		if err != nil {
			return err
		}
		rdName, err := rd.optionalString(it, props, "roleDefinitionName", prefix+"roleDefinitionName")
		if err != nil {
			return err
		}
		rdRaw, err := rd.requiredString(it, props, "roleDefinitionId", prefix+"roleDefinitionId", "the role definition's resource id")
		if err != nil {
			return err
		}
		roleGUID, listedIn, err := rd.roleDefinitionID(it, rdRaw, prefix+"roleDefinitionId")
		if err != nil {
			return err
		}
		scopeRaw, err := rd.requiredString(it, props, "scope", prefix+"scope", "the assignment's scope")
		if err != nil {
			return err
		}
		sc, err := rd.scope(it, scopeRaw, prefix+"scope")
		if err != nil {
			return err
		}
		// az lists in one subscription: roleDefinitionIds are given in that
		// subscription, even for assignments inherited from above it.
		if listedIn != "" {
			covered[listedIn] = true
		}
		if sc.Subscription != "" {
			covered[sc.Subscription] = true
		}
		snap.RoleAssignments = append(snap.RoleAssignments, RoleAssignment{
			TenantID:           tenant,
			ID:                 name,
			PrincipalID:        principal,
			PrincipalType:      pt,
			PrincipalName:      pname,
			RoleDefinitionID:   roleGUID,
			RoleDefinitionName: rdName,
			RoleDefinition:     roleRef(roleGUID),
			Scope:              sc.Raw,
			Item:               it.index,
		})
	}
	if len(snap.RoleAssignments) > 0 {
		snap.Tenants = []string{snap.RoleAssignments[0].TenantID}
	}
	for s := range covered {
		snap.CoveredSubscriptions = append(snap.CoveredSubscriptions, s)
	}
	slices.Sort(snap.CoveredSubscriptions)
	return nil
}

// assignmentName returns the assignment's GUID: its name, or the last
// segment of its id when name is absent.
func (rd *reader) assignmentName(it item, m map[string]json.RawMessage, id string) (string, error) {
	name, err := rd.optionalString(it, m, "name", "name")
	if err != nil {
		return "", err
	}
	field := "name"
	if name == "" && id != "" {
		name = id[strings.LastIndex(id, "/")+1:]
		field = "id"
	}
	if name == "" {
		return "", rd.failItem(it, "name", "is missing; expected the role assignment's GUID (its name, or the last segment of its id)")
	}
	if !partnerlink.IsGUID(name) {
		return "", rd.failItem(it, field, "%q is not a GUID; expected the role assignment's GUID (8-4-4-4-12 hexadecimal digits)", name)
	}
	return strings.ToLower(name), nil
}

// readAzDefinitions reads `az role definition list` rows: roleName,
// roleType (BuiltInRole or CustomRole), name (the GUID), id and
// permissions [{actions, notActions, dataActions, notDataActions}].
func (rd *reader) readAzDefinitions(snap *Snapshot, items []item, objs []map[string]json.RawMessage) error {
	for i, it := range items {
		d, err := rd.definition(it, objs[i], "", "roleType")
		if err != nil {
			return err
		}
		// az prints no tenant: the roles are the default tenant's (the
		// one the export was taken in), or left to Apply.
		d.TenantID = rd.opts.defaultTenant
		snap.RoleDefinitions = append(snap.RoleDefinitions, d)
	}
	if rd.opts.defaultTenant != "" && len(snap.RoleDefinitions) > 0 {
		snap.Tenants = []string{rd.opts.defaultTenant}
	}
	return nil
}

// definition reads a role definition from m, whose fields are under
// prefix in messages (az puts them at the top, Resource Graph under
// properties); the GUID is the row's name, or the last segment of its id.
func (rd *reader) definition(it item, m map[string]json.RawMessage, prefix, typeKey string) (RoleDefinition, error) {
	d := RoleDefinition{Item: it.index}
	top := m
	props := m
	if prefix != "" {
		p, err := rd.object(it, m, "properties", "properties")
		if err != nil {
			return d, err
		}
		if p == nil {
			return d, rd.failItem(it, "properties", "is missing; expected the role definition's roleName, type and permissions")
		}
		props = p
	}
	id, _, _ := stringField(top["id"])
	name, err := rd.optionalString(it, top, "name", "name")
	if err != nil {
		return d, err
	}
	field := "name"
	if name == "" {
		name = id[strings.LastIndex(id, "/")+1:]
		field = "id"
	}
	if !partnerlink.IsGUID(name) {
		return d, rd.failItem(it, field, "%q is not a GUID; expected the role definition's GUID", name)
	}
	d.ID = strings.ToLower(name)
	if d.Name, err = rd.requiredString(it, props, "roleName", prefix+"roleName", "the role's name"); err != nil {
		return d, err
	}
	typ, err := rd.optionalString(it, props, typeKey, prefix+typeKey)
	if err != nil {
		return d, err
	}
	switch {
	case strings.EqualFold(typ, "BuiltInRole"):
		d.BuiltIn = true
	case strings.EqualFold(typ, "CustomRole"), typ == "":
	default:
		return d, rd.failItem(it, prefix+typeKey, "%q is not a role type; expected BuiltInRole or CustomRole", typ)
	}
	var perms []struct {
		Actions     []string `json:"actions"`
		NotActions  []string `json:"notActions"`
		DataActions []string `json:"dataActions"`
	}
	raw := props["permissions"]
	if len(raw) == 0 || string(raw) == "null" {
		return d, rd.failItem(it, prefix+"permissions", "is missing; expected [{\"actions\": [...], \"notActions\": [...]}]")
	}
	if err := json.Unmarshal(raw, &perms); err != nil {
		return d, rd.failItem(it, prefix+"permissions", "is not [{\"actions\": [...], \"notActions\": [...], \"dataActions\": [...]}] with arrays of strings: %v", err)
	}
	// Several permission blocks are stored as their union (see the package
	// documentation); Azure's roles have one.
	d.Actions, d.NotActions = []string{}, []string{}
	for _, p := range perms {
		d.Actions = append(d.Actions, p.Actions...)
		d.NotActions = append(d.NotActions, p.NotActions...)
		d.DataActions = append(d.DataActions, p.DataActions...)
	}
	for j, a := range d.Actions {
		if strings.TrimSpace(a) == "" {
			return d, rd.failItem(it, fmt.Sprintf("%spermissions.actions[%d]", prefix, j), "an action must not be empty")
		}
	}
	return d, nil
}
