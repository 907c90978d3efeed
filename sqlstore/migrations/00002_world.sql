-- +goose Up
-- The rest of the world document (docs/api.md#world-document), each row with its period.
CREATE TABLE management_groups (
    tenant_id TEXT NOT NULL,
    name      TEXT NOT NULL,
    parent    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tenant_id, name)
);

CREATE TABLE subscriptions (
    subscription_id  TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL,
    name             TEXT NOT NULL,
    management_group TEXT NOT NULL DEFAULT ''
);
CREATE INDEX subscriptions_tenant ON subscriptions (tenant_id);

CREATE TABLE role_definitions (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    actions      TEXT NOT NULL, -- JSON arrays
    not_actions  TEXT NOT NULL,
    data_actions TEXT NOT NULL DEFAULT '[]'
);

-- role_assignments keeps every period; the assignment in force has
-- valid_to IS NULL.
CREATE TABLE role_assignments (
    row_id          {{IDENTITY}},
    tenant_id       TEXT NOT NULL,
    id              TEXT NOT NULL,
    principal_id    TEXT NOT NULL,
    role_definition TEXT NOT NULL,
    scope           TEXT NOT NULL,
    scope_key       TEXT NOT NULL, -- lower-cased, no trailing slash
    valid_from      BIGINT,
    valid_to        BIGINT,
    actor           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX role_assignments_id ON role_assignments (id);
CREATE INDEX role_assignments_scope ON role_assignments (tenant_id, scope_key);
CREATE INDEX role_assignments_principal ON role_assignments (tenant_id, principal_id);

CREATE TABLE delegations (
    row_id             {{IDENTITY}},
    id                 TEXT NOT NULL,
    customer_tenant_id TEXT NOT NULL,
    managing_tenant_id TEXT NOT NULL,
    scope              TEXT NOT NULL,
    principal_id       TEXT NOT NULL,
    role_definition    TEXT NOT NULL,
    valid_from         BIGINT,
    valid_to           BIGINT
);

CREATE TABLE environments (
    tenant_id      TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    type           TEXT NOT NULL,
    PRIMARY KEY (tenant_id, environment_id)
);

CREATE TABLE pp_resources (
    id             TEXT PRIMARY KEY,
    tenant_id      TEXT NOT NULL,
    environment_id TEXT NOT NULL,
    kind           TEXT NOT NULL,
    paid           BOOLEAN NOT NULL
);

CREATE TABLE ownership (
    row_id       {{IDENTITY}},
    resource_id  TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    role         TEXT NOT NULL,
    valid_from   BIGINT,
    valid_to     BIGINT
);
CREATE INDEX ownership_resource ON ownership (resource_id);

-- +goose Down
DROP TABLE ownership;
DROP TABLE pp_resources;
DROP TABLE environments;
DROP TABLE delegations;
DROP TABLE role_assignments;
DROP TABLE role_definitions;
DROP TABLE subscriptions;
DROP TABLE management_groups;
