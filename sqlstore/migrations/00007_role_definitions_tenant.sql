-- +goose Up
-- A custom role belongs to one tenant (docs/rules.md, "Role definitions
-- and management groups"): role definitions are keyed by (tenant_id, id),
-- and two tenants may each have a role of one GUID or name. tenant_id is
-- '' only for a built-in role listed without a tenant.
-- A role stored before belonged to no tenant. It is given to every tenant
-- whose role assignments or delegations (by the customer tenant) name it,
-- by GUID or by name; a role nothing names, to every tenant. So every
-- tenant keeps the roles it could use, and from now on each changes only
-- its own copy.
CREATE TABLE role_definitions_copy AS SELECT * FROM role_definitions;
DROP TABLE role_definitions;
CREATE TABLE role_definitions (
    tenant_id    TEXT NOT NULL,
    id           TEXT NOT NULL,
    name         TEXT NOT NULL,
    actions      TEXT NOT NULL, -- JSON arrays
    not_actions  TEXT NOT NULL,
    data_actions TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (tenant_id, id)
);
INSERT INTO role_definitions (tenant_id, id, name, actions, not_actions, data_actions)
SELECT '', id, name, actions, not_actions, data_actions FROM role_definitions_copy
WHERE id IN ('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'acdd72a7-3385-48ef-bd42-f606fba81ae7', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    '72fafb9e-0641-4937-9268-a91bfd8191a3', 'fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64');
INSERT INTO role_definitions (tenant_id, id, name, actions, not_actions, data_actions)
SELECT DISTINCT u.tenant_id, r.id, r.name, r.actions, r.not_actions, r.data_actions
FROM role_definitions_copy r
JOIN (SELECT tenant_id, lower(role_definition) AS ref FROM role_assignments
      UNION SELECT customer_tenant_id, lower(role_definition) FROM delegations) u
  ON u.ref = lower(r.id) OR u.ref = lower(r.name)
WHERE r.id NOT IN ('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'acdd72a7-3385-48ef-bd42-f606fba81ae7', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    '72fafb9e-0641-4937-9268-a91bfd8191a3', 'fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64');
INSERT INTO role_definitions (tenant_id, id, name, actions, not_actions, data_actions)
SELECT t.tenant_id, r.id, r.name, r.actions, r.not_actions, r.data_actions
FROM role_definitions_copy r CROSS JOIN tenants t
WHERE r.id NOT IN ('8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'b24988ac-6180-42a0-ab88-20f7382dd24c',
    'acdd72a7-3385-48ef-bd42-f606fba81ae7', '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
    '72fafb9e-0641-4937-9268-a91bfd8191a3', 'fa23ad8b-c56e-40d8-ac0c-ce449e1d2c64')
  AND NOT EXISTS (SELECT 1 FROM role_assignments a WHERE lower(a.role_definition) IN (lower(r.id), lower(r.name)))
  AND NOT EXISTS (SELECT 1 FROM delegations d WHERE lower(d.role_definition) IN (lower(r.id), lower(r.name)));
DROP TABLE role_definitions_copy;

-- +goose Down
-- One table for every tenant again: of a role's copies, the one of the
-- least tenant id is kept.
CREATE TABLE role_definitions_copy AS SELECT * FROM role_definitions;
DROP TABLE role_definitions;
CREATE TABLE role_definitions (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    actions      TEXT NOT NULL, -- JSON arrays
    not_actions  TEXT NOT NULL,
    data_actions TEXT NOT NULL DEFAULT '[]'
);
INSERT INTO role_definitions (id, name, actions, not_actions, data_actions)
SELECT id, name, actions, not_actions, data_actions FROM role_definitions_copy c
WHERE c.tenant_id = (SELECT MIN(m.tenant_id) FROM role_definitions_copy m WHERE m.id = c.id);
DROP TABLE role_definitions_copy;
