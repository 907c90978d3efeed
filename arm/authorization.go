package arm

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/partnerlink/partnerlink"
	"github.com/partnerlink/partnerlink/rbac"
)

// RoleStore is what the Microsoft.Authorization and resource handlers
// need: the role model, and the directory reads of rbac.
type RoleStore interface {
	rbac.Store
	partnerlink.RoleStore
}

// authVersions are the Microsoft.Authorization api-versions accepted: the
// ones az CLI 2.45 and the Python SDK send, all of which share the shapes
// served here.
var authVersions = []string{"2015-07-01", "2018-01-01-preview", "2018-09-01-preview", "2020-04-01-preview",
	"2020-10-01-preview", "2021-04-01-preview", "2022-01-01-preview", "2022-04-01", "2022-05-01-preview"}

type roleAssignmentResponse struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties roleAssignmentProperties `json:"properties"`
}

type roleAssignmentProperties struct {
	RoleDefinitionID string  `json:"roleDefinitionId"`
	PrincipalID      string  `json:"principalId"`
	PrincipalType    string  `json:"principalType,omitempty"`
	Scope            string  `json:"scope"`
	Description      *string `json:"description"`
	Condition        *string `json:"condition"`
	ConditionVersion *string `json:"conditionVersion"`
	CreatedOn        string  `json:"createdOn,omitempty"`
	UpdatedOn        string  `json:"updatedOn,omitempty"`
	CreatedBy        string  `json:"createdBy,omitempty"`
	UpdatedBy        string  `json:"updatedBy,omitempty"`
}

type roleDefinitionResponse struct {
	ID         string                   `json:"id"`
	Name       string                   `json:"name"`
	Type       string                   `json:"type"`
	Properties roleDefinitionProperties `json:"properties"`
}

type roleDefinitionProperties struct {
	RoleName         string       `json:"roleName"`
	Type             string       `json:"type"`
	Description      string       `json:"description"`
	AssignableScopes []string     `json:"assignableScopes"`
	Permissions      []permission `json:"permissions"`
}

type permission struct {
	Actions        []string `json:"actions"`
	NotActions     []string `json:"notActions"`
	DataActions    []string `json:"dataActions"`
	NotDataActions []string `json:"notDataActions"`
}

// roleDefinitionID is the id of a role definition as seen from a scope.
func roleDefinitionID(s partnerlink.Scope, roleID string) string {
	if s.Subscription != "" {
		return "/subscriptions/" + s.Subscription + "/providers/Microsoft.Authorization/roleDefinitions/" + roleID
	}
	return "/providers/Microsoft.Authorization/roleDefinitions/" + roleID
}

func (h *Handler) roleResponse(s partnerlink.Scope, r rbac.Role) roleDefinitionResponse {
	typ := "BuiltInRole"
	if r.Custom {
		typ = "CustomRole"
	}
	nz := func(l []string) []string {
		if l == nil {
			return []string{}
		}
		return l
	}
	return roleDefinitionResponse{ID: roleDefinitionID(s, r.ID), Name: r.ID, Type: "Microsoft.Authorization/roleDefinitions",
		Properties: roleDefinitionProperties{RoleName: r.Name, Type: typ, AssignableScopes: []string{"/"},
			Permissions: []permission{{Actions: nz(r.Actions), NotActions: nz(r.NotActions), DataActions: nz(r.DataActions), NotDataActions: []string{}}}}}
}

// principalType maps a directory type to the ARM principalType.
func principalType(t partnerlink.PrincipalType) string {
	switch t {
	case partnerlink.PrincipalServicePrincipal:
		return "ServicePrincipal"
	case partnerlink.PrincipalGroup:
		return "Group"
	}
	return "User"
}

func (h *Handler) assignmentResponse(ctx context.Context, ra partnerlink.RoleAssignment, custom []partnerlink.RoleDefinition) roleAssignmentResponse {
	s, _ := partnerlink.ParseScope(ra.Scope)
	roleID := ra.RoleDefinition
	if r, ok := rbac.Resolve(custom, ra.RoleDefinition); ok {
		roleID = r.ID
	}
	prefix := ra.Scope
	if prefix == "/" {
		prefix = ""
	}
	resp := roleAssignmentResponse{ID: prefix + "/providers/Microsoft.Authorization/roleAssignments/" + ra.ID, Name: ra.ID,
		Type:       "Microsoft.Authorization/roleAssignments",
		Properties: roleAssignmentProperties{RoleDefinitionID: roleDefinitionID(s, roleID), PrincipalID: ra.PrincipalID, Scope: ra.Scope}}
	if p, err := h.Directory.Principal(ctx, ra.TenantID, ra.PrincipalID); err == nil {
		resp.Properties.PrincipalType = principalType(p.Type)
	}
	if !ra.Period.From.IsZero() {
		resp.Properties.CreatedOn = ra.Period.From.UTC().Format(armTime)
		resp.Properties.UpdatedOn = resp.Properties.CreatedOn
	}
	return resp
}

func (h *Handler) authorizer() *rbac.Authorizer { return &rbac.Authorizer{Store: h.Roles, Now: h.Now} }

// scopeOf parses the scope part of an Authorization path.
func scopeOf(raw string) (partnerlink.Scope, error) {
	if raw == "" {
		raw = "/"
	}
	return partnerlink.ParseScope(raw)
}

// putRoleAssignment creates a role assignment (201), returns an identical
// existing one (200), or refuses a conflicting re-use of the name or a
// duplicate of another assignment (409 with the ARM codes).
func (h *Handler) putRoleAssignment(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := scopeOf(p.scope)
	if err != nil {
		return err
	}
	if !partnerlink.IsGUID(p.name) {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRoleAssignmentId",
			"The role assignment ID '%s' is not valid. The role assignment ID must be a GUID.", p.name)
	}
	var body struct {
		Properties struct {
			RoleDefinitionID string `json:"roleDefinitionId"`
			PrincipalID      string `json:"principalId"`
			PrincipalType    string `json:"principalType"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(p.body, &body); err != nil {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent",
			"The request content is not valid JSON: %v. Expected {\"properties\":{\"roleDefinitionId\":…,\"principalId\":…}}.", err)
	}
	if err := h.authorizer().Check(ctx, c, s, rbac.WriteRoleAssignments); err != nil {
		return err
	}
	tenant := c.TenantID
	principalID, err := partnerlink.ParseGUID("properties.principalId", body.Properties.PrincipalID)
	if err != nil {
		return err
	}
	custom, err := h.Roles.RoleDefinitions(ctx, tenant) // the role is looked up in the assignment's tenant
	if err != nil {
		return err
	}
	roleGUID := body.Properties.RoleDefinitionID[strings.LastIndex(body.Properties.RoleDefinitionID, "/")+1:]
	role, ok := rbac.Resolve(custom, roleGUID)
	if !ok || !strings.Contains(strings.ToLower(body.Properties.RoleDefinitionID), "/providers/microsoft.authorization/roledefinitions/") {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "RoleDefinitionDoesNotExist",
			"The specified role definition with ID '%s' does not exist.", body.Properties.RoleDefinitionID)
	}
	if _, err := h.Directory.Principal(ctx, tenant, principalID); err != nil {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "PrincipalNotFound",
			"Principal %s does not exist in the directory %s.", strings.ReplaceAll(principalID, "-", ""), tenant)
	}
	roleName := role.Name
	if role.Custom {
		roleName = role.ID
	}
	now := h.now().UTC()
	ra := partnerlink.RoleAssignment{TenantID: tenant, ID: strings.ToLower(p.name), PrincipalID: principalID,
		RoleDefinition: roleName, Scope: s.Raw, Period: partnerlink.Period{From: now}}
	var existing *partnerlink.RoleAssignment
	created, err := h.Roles.CreateRoleAssignment(ctx, ra, c.ObjectID, func(sameID, sameGrant []partnerlink.RoleAssignment) (bool, error) {
		// At most one assignment is in force under a name.
		if len(sameID) > 0 {
			e := sameID[0]
			if e.PrincipalID == principalID && strings.EqualFold(scopeKeyOf(e.Scope), s.Key) && sameRole(custom, e.RoleDefinition, role.ID) {
				existing = &e
				return false, nil
			}
			return false, partnerlink.ARMErrorf(partnerlink.ECONFLICT, "RoleAssignmentUpdateNotPermitted",
				"Tenant ID, application ID, principal ID, and scope are not allowed to be updated; role assignment '%s' already exists with other values. Use a new name.", p.name)
		}
		for _, e := range sameGrant {
			if sameRole(custom, e.RoleDefinition, role.ID) {
				return false, partnerlink.ARMErrorf(partnerlink.ECONFLICT, "RoleAssignmentExists",
					"The role assignment already exists (as '%s').", e.ID)
			}
		}
		return true, nil
	})
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !created && existing != nil {
		ra, status = *existing, http.StatusOK
	}
	writeJSON(w, status, h.assignmentResponse(ctx, ra, custom))
	return nil
}

func scopeKeyOf(raw string) string {
	s, err := partnerlink.ParseScope(raw)
	if err != nil {
		return strings.ToLower(raw)
	}
	return s.Key
}

func sameRole(custom []partnerlink.RoleDefinition, ref, roleID string) bool {
	r, ok := rbac.Resolve(custom, ref)
	return ok && strings.EqualFold(r.ID, roleID)
}

// findAssignment returns the assignment in force named p.name at p.scope.
func (h *Handler) findAssignment(ctx context.Context, c partnerlink.Caller, s partnerlink.Scope, name string) (*partnerlink.RoleAssignment, error) {
	tenant, err := h.authorizer().ScopeTenant(ctx, c, s)
	if err != nil {
		return nil, err
	}
	ras, err := h.Roles.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenant, ID: name, CurrentOnly: true})
	if err != nil {
		return nil, err
	}
	for _, ra := range ras {
		if scopeKeyOf(ra.Scope) == s.Key {
			return &ra, nil
		}
	}
	return nil, partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "RoleAssignmentNotFound", "The role assignment '%s' is not found.", name)
}

func (h *Handler) getRoleAssignment(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := scopeOf(p.scope)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.ReadRoleAssignments)
	}
	if err != nil {
		return err
	}
	ra, err := h.findAssignment(ctx, c, s, strings.ToLower(p.name))
	if err != nil {
		return err
	}
	custom, _ := h.Roles.RoleDefinitions(ctx, ra.TenantID)
	writeJSON(w, http.StatusOK, h.assignmentResponse(ctx, *ra, custom))
	return nil
}

// deleteRoleAssignment closes the assignment's period: 200 with the deleted
// assignment, or 204 when there is none (as ARM answers).
func (h *Handler) deleteRoleAssignment(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := scopeOf(p.scope)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.DeleteRoleAssignments)
	}
	if err != nil {
		return err
	}
	ra, err := h.findAssignment(ctx, c, s, strings.ToLower(p.name))
	if partnerlink.ErrorCode(err) == partnerlink.ENOTFOUND {
		w.WriteHeader(http.StatusNoContent)
		return nil
	} else if err != nil {
		return err
	}
	ended, err := h.Roles.EndRoleAssignment(ctx, ra.TenantID, ra.ID, h.now().UTC(), c.ObjectID)
	if err != nil {
		return err
	}
	custom, _ := h.Roles.RoleDefinitions(ctx, ended.TenantID)
	writeJSON(w, http.StatusOK, h.assignmentResponse(ctx, *ended, custom))
	return nil
}

var (
	reAssignedTo = regexp.MustCompile(`(?i)^assignedTo\('([0-9a-f-]{36})'\)$`)
	rePrincipal  = regexp.MustCompile(`(?i)^principalId\s+eq\s+'([0-9a-f-]{36})'$`)
	reRoleName   = regexp.MustCompile(`(?i)^roleName\s+eq\s+'(.+)'$`)
)

// listRoleAssignments lists the assignments in force that apply at the
// scope (at it and above) and, without atScope(), below it too; filters:
// atScope(), principalId eq '…', assignedTo('…') (the principal and its groups).
func (h *Handler) listRoleAssignments(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := scopeOf(p.scope)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.ReadRoleAssignments)
	}
	if err != nil {
		return err
	}
	atScope, principals := false, []string(nil)
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		for _, term := range regexp.MustCompile(`(?i)\s+and\s+`).Split(f, -1) {
			term = strings.TrimSpace(term)
			switch {
			case strings.EqualFold(term, "atScope()"):
				atScope = true
			case rePrincipal.MatchString(term):
				principals = []string{strings.ToLower(rePrincipal.FindStringSubmatch(term)[1])}
			case reAssignedTo.MatchString(term):
				id := strings.ToLower(reAssignedTo.FindStringSubmatch(term)[1])
				if principals, err = h.authorizer().Identities(ctx, c.TenantID, id); err != nil {
					return err
				}
			default:
				return partnerlink.ARMErrorf(partnerlink.EINVALID, "UnsupportedQuery",
					"The filter '%s' is not supported; use atScope(), principalId eq '{id}' or assignedTo('{id}'), joined with 'and'.", term)
			}
		}
	}
	tenant, _ := h.authorizer().ScopeTenant(ctx, c, s)
	ancestors, err := h.authorizer().Ancestors(ctx, tenant, s)
	if err != nil {
		return err
	}
	found, err := h.Roles.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenant, PrincipalIDs: principals,
		ScopeKeys: ancestors, CurrentOnly: true})
	if err != nil {
		return err
	}
	if !atScope {
		below, err := h.Roles.RoleAssignments(ctx, partnerlink.RoleAssignmentFilter{TenantID: tenant, PrincipalIDs: principals,
			ScopePrefix: s.Key, CurrentOnly: true})
		if err != nil {
			return err
		}
		for _, ra := range below {
			if scopeKeyOf(ra.Scope) != s.Key {
				found = append(found, ra)
			}
		}
	}
	custom, _ := h.Roles.RoleDefinitions(ctx, tenant)
	out := struct {
		Value []roleAssignmentResponse `json:"value"`
	}{Value: []roleAssignmentResponse{}}
	for _, ra := range found {
		out.Value = append(out.Value, h.assignmentResponse(ctx, ra, custom))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// scopeAndRoles parses the request's scope, which must be in the caller's
// tenant, and loads that tenant's custom roles: a tenant never sees
// another's (docs/api.md, "Authorization of management groups and role
// definitions").
func (h *Handler) scopeAndRoles(r *http.Request, c partnerlink.Caller, p params) (partnerlink.Scope, []partnerlink.RoleDefinition, error) {
	s, err := scopeOf(p.scope)
	if err != nil {
		return s, nil, err
	}
	tenant, err := h.authorizer().CallerTenant(r.Context(), c, s)
	if err != nil {
		return s, nil, err
	}
	custom, err := h.Roles.RoleDefinitions(r.Context(), tenant)
	return s, custom, err
}

var reRoleType = regexp.MustCompile(`(?i)^type\s+eq\s+'(BuiltInRole|CustomRole)'$`)

// listRoleDefinitions lists built-in and custom roles; $filter takes
// roleName eq '…' or type eq 'BuiltInRole'|'CustomRole'.
func (h *Handler) listRoleDefinitions(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	s, custom, err := h.scopeAndRoles(r, c, p)
	if err != nil {
		return err
	}
	keep := func(rbac.Role) bool { return true }
	if f := strings.TrimSpace(r.URL.Query().Get("$filter")); f != "" {
		if m := reRoleName.FindStringSubmatch(f); m != nil {
			keep = func(role rbac.Role) bool { return strings.EqualFold(role.Name, m[1]) }
		} else if m := reRoleType.FindStringSubmatch(f); m != nil {
			custom := strings.EqualFold(m[1], "CustomRole")
			keep = func(role rbac.Role) bool { return role.Custom == custom }
		} else {
			return partnerlink.ARMErrorf(partnerlink.EINVALID, "UnsupportedQuery",
				"The filter '%s' is not supported; use roleName eq '{name}' or type eq 'BuiltInRole'|'CustomRole'.", f)
		}
	}
	out := struct {
		Value []roleDefinitionResponse `json:"value"`
	}{Value: []roleDefinitionResponse{}}
	for _, role := range rbac.Roles(custom) {
		if keep(role) {
			out.Value = append(out.Value, h.roleResponse(s, role))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (h *Handler) getRoleDefinition(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	s, custom, err := h.scopeAndRoles(r, c, p)
	if err != nil {
		return err
	}
	role, ok := rbac.Resolve(custom, p.name)
	if !ok || !partnerlink.IsGUID(p.name) {
		return partnerlink.ARMErrorf(partnerlink.ENOTFOUND, "RoleDefinitionDoesNotExist",
			"The role definition '%s' could not be found.", p.name)
	}
	writeJSON(w, http.StatusOK, h.roleResponse(s, role))
	return nil
}

// putRoleDefinition creates or updates a custom role of the caller's
// tenant (the scope's, which must be the caller's); Owner or User Access
// Administrator at the scope to create one, at the tenant root to change one. Role ids are per tenant: a PUT never reaches
// another tenant's role of the same id, and answers the same whether one
// exists or not (docs/api.md).
func (h *Handler) putRoleDefinition(w http.ResponseWriter, r *http.Request, c partnerlink.Caller, p params) error {
	ctx := r.Context()
	s, err := scopeOf(p.scope)
	if err == nil {
		err = h.authorizer().Check(ctx, c, s, rbac.WriteRoleDefinitions)
	}
	if err != nil {
		return err
	}
	id, err := partnerlink.ParseGUID("role definition id", p.name)
	if err != nil {
		return err
	}
	if _, builtin := partnerlink.LookupBuiltinRole(id); builtin {
		return partnerlink.ARMErrorf(partnerlink.EFORBIDDEN, "RoleDefinitionUpdateNotPermitted", "Built-in roles cannot be changed.")
	}
	var body struct {
		Properties struct {
			RoleName    string       `json:"roleName"`
			Permissions []permission `json:"permissions"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(p.body, &body); err != nil || body.Properties.RoleName == "" || len(body.Properties.Permissions) == 0 {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent",
			"Expected {\"properties\":{\"roleName\":…,\"permissions\":[{\"actions\":[…],\"notActions\":[…]}]}}.")
	}
	if err := partnerlink.CheckName(body.Properties.RoleName); err != nil {
		return partnerlink.ARMErrorf(partnerlink.EINVALID, "InvalidRequestContent", "properties.roleName: %v.", err)
	}
	if _, builtin := partnerlink.LookupBuiltinRole(body.Properties.RoleName); builtin {
		return partnerlink.ARMErrorf(partnerlink.ECONFLICT, "RoleDefinitionWithSameNameExists",
			"A role definition named '%s' already exists (built-in).", body.Properties.RoleName)
	}
	rd := partnerlink.RoleDefinition{TenantID: c.TenantID, ID: id, Name: body.Properties.RoleName}
	for _, perm := range body.Properties.Permissions {
		rd.Actions = append(rd.Actions, perm.Actions...)
		rd.NotActions = append(rd.NotActions, perm.NotActions...)
		rd.DataActions = append(rd.DataActions, perm.DataActions...)
	}
	// A custom role applies tenant-wide (its assignable scope is "/"): a
	// writer at the request's scope may create one, but only a writer at the
	// tenant root may change one that exists, since the change reaches every
	// assignment of it (docs/api.md, "Authorization").
	root, _ := partnerlink.ParseScope("/")
	replace, err := h.authorizer().Allowed(ctx, c, root, rbac.WriteRoleDefinitions)
	if err != nil {
		return err
	}
	if err := h.Roles.PutRoleDefinition(ctx, rd, replace); err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, h.roleResponse(s, rbac.Role{ID: rd.ID, Name: rd.Name, Actions: rd.Actions,
		NotActions: rd.NotActions, DataActions: rd.DataActions, Custom: true}))
	return nil
}

// readBody reads a JSON request body within the limit.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, tooLarge()
	}
	return b, nil
}
