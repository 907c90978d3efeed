// Package snapshot imports point-in-time snapshots of a real Azure
// environment and folds them into the world document (docs/api.md#world-document) as
// periods: "a later snapshot closes the periods of what disappeared and
// opens what appeared, at the snapshot's instant".
//
// The package is pure: Read parses bytes, Apply changes a document in
// memory; neither does I/O of its own nor reads the clock.
//
// # Formats
//
// Read recognizes the format by its shape, never by the file name:
//
//   - `az role assignment list --all` (also with --include-inherited,
//     --include-groups, --assignee): a JSON array of role assignments as
//     azure-cli's role module prints them (custom.py list_role_assignments:
//     the SDK model flattened by todict, then roleDefinitionName and
//     principalName filled in). Fields used: name (the assignment GUID),
//     principalId, principalType, principalName, roleDefinitionId,
//     roleDefinitionName, scope. Others (id, type, condition,
//     conditionVersion, createdOn, updatedOn, createdBy, updatedBy,
//     description, delegatedManagedIdentityResourceId, resourceGroup…) are
//     ignored. The older shape, where those fields sit under "properties"
//     (az before the 2020 Authorization API), is read too. Rows that
//     --include-classic-administrators adds (id "NA(classic admins)") are
//     not role assignments and are skipped, reported in Snapshot.Skipped.
//   - `az role definition list` (optionally --custom-role-only): an array of
//     role definitions with roleName, roleType, permissions.
//   - Azure Resource Graph rows of the authorizationresources table (types
//     microsoft.authorization/roleassignments and
//     microsoft.authorization/roledefinitions) and of the resourcecontainers
//     table (microsoft.resources/subscriptions,
//     microsoft.resources/subscriptions/resourcegroups,
//     microsoft.management/managementgroups), in any of the shapes they are
//     exported in: a plain array of rows (az graph query before extension
//     2.0, or the data arrays of several pages merged into one);
//     the `az graph query` object {"count", "data": [...], "skip_token",
//     "total_records"} (extension 2.0 and later, custom.py execute_query);
//     the REST response {"totalRecords", "count", "data": [...],
//     "resultTruncated", "$skipToken"}; and the REST table format, where
//     "data" is {"columns": [{"name", "type"}], "rows": [[...]]} (API
//     2018-09-01-preview, recorded in the resource-graph extension's
//     tests). An ARM list of role assignments ({"value": [...]}, as the
//     REST API and az rest return it) is read like the older az shape.
//     Rows of other types (classic administrators, …) are skipped and reported. A paged result with a skip
//     token left, or one marked truncated, is refused: applying one page
//     would close every assignment on the pages not exported.
//
// # Decisions
//
//   - Tenant. Resource Graph rows carry tenantId. az role assignment list
//     output has none, so Read needs the DefaultTenant option for it and
//     says so when it is missing. The tenants a snapshot covers are the
//     tenants of its rows (or the default tenant).
//   - Coverage. A Resource Graph snapshot covers its tenants whole. An az
//     role assignment list snapshot is listed in one subscription (the
//     subscription its roleDefinitionIds are listed in, and the subscription
//     of its scopes): it covers assignments in those subscriptions and at
//     the management groups above them (as the document places the
//     subscription) and the tenant root, and Apply closes nothing elsewhere
//     in the tenant. A tenant's assignments are compared only when the
//     snapshot lists at least one assignment of that tenant: an export of
//     subscriptions and management groups only, of role definitions only,
//     or of nothing, closes nothing (a tenant with no role assignment at
//     all does not happen in practice: every subscription has an owner).
//   - Role definitions. An assignment's roleDefinition is the built-in
//     role's name when its GUID is one of the built-in roles every world
//     knows (partnerlink.LookupBuiltinRole), and the GUID otherwise. A role
//     definition belongs to a tenant (docs/rules.md): the tenantId of its
//     Resource Graph row, else the DefaultTenant (az role definition list
//     names none), else every tenant Apply applies the snapshot to; with
//     none of these it is an error. Custom roles
//     are always upserted into the roleDefinitions of their tenant when the snapshot defines
//     them (Resource Graph roledefinitions rows, az role definition list);
//     Azure built-in roles the world does not know are upserted, as roles
//     of the tenant, when an assignment of that tenant in the snapshot or
//     the document (or a delegation of its scopes) uses them, or all of them
//     when the snapshot has no assignments (an export of definitions,
//     imported ahead of the assignments that use them), so that the
//     document does not fill with hundreds of unused roles. An assignment whose
//     role is defined nowhere is an error naming the role and how to export
//     its definition: importing it with no actions would silently make a
//     writing role a reader. A definition with several permission blocks is
//     stored as the union of its blocks' actions and of their notActions
//     (Azure roles have one block in practice).
//   - Principals. A principal an assignment names but the document lacks is
//     added to the assignment's tenant with no period bounds (it existed
//     before the snapshot saw it; the assignment's own period bounds the
//     grant). Its type: User, except that a user whose principalName is a
//     guest UPN (containing "#EXT#") is a Guest; ServicePrincipal; Group;
//     and ForeignGroup becomes a Group flagged cspDelegated: foreign groups
//     in a customer tenant are the CSP partner's AdminAgents/HelpdeskAgents
//     and GDAP groups, whose access docs/rules.md#azure-attribution leaves to the CSP channel.
//     displayName is az's principalName (UPN, service principal name or
//     group name) when known. Principals already in the document are never
//     changed, and no principal is closed because it has no assignment left.
//   - Containers. Subscriptions, management groups and role definitions are
//     not temporal in the world document: they are upserted. A
//     subscription's management group is the nearest entry of
//     properties.managementGroupAncestorsChain; that chain also supplies the
//     management groups above it (management group rows win where both
//     speak). A subscription or management group an assignment's scope
//     names but the document lacks is added to the assignment's tenant. The
//     world document has no resource groups: they are parsed and counted,
//     not stored.
//   - Periods. Assignments are matched by (tenant, assignment GUID). One
//     open in the document and present in the snapshot stays as it is; one
//     present with another principal, role or scope is closed and a new
//     period opened; one open but absent is closed at the instant; one
//     present but not open gets a new period from the instant (a
//     re-appearing assignment gets a new row). Applying the same snapshot
//     again, at any later instant, changes nothing. Applying a snapshot at
//     an instant before a period it would close or overlap is refused:
//     snapshots are applied in time order.
//   - Scopes keep the casing of the input (a single trailing "/" dropped);
//     every GUID is lower-cased, management group names that are GUIDs (the
//     tenant root group) included.
//   - Strictness. Fields the import uses are checked (present, of the right
//     JSON type, GUIDs, scopes, role definition ids, principal types:
//     User, Group, ServicePrincipal, ForeignGroup); fields it does not use
//     are ignored, since every tool adds its own. Rows listed twice
//     identically (concatenated az outputs repeat inherited assignments)
//     count once; an assignment id listed twice with different contents is
//     an error. A UTF-8 byte order mark is accepted; UTF-16 is refused with
//     how to re-save the file.
//   - Apply is all-or-nothing and checks the result with world.Validate.
package snapshot
