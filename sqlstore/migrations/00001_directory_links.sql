-- +goose Up
-- Instants are Unix nanoseconds (BIGINT) in both databases: exact, comparable,
-- and identical across SQLite and PostgreSQL. NULL valid_from means "since
-- always", NULL valid_to "still in force" (docs/rules.md#identifiers-and-time).
CREATE TABLE tenants (
    tenant_id      TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    webhook_url    TEXT NOT NULL DEFAULT '',
    webhook_secret TEXT NOT NULL DEFAULT ''
);

CREATE TABLE principals (
    tenant_id      TEXT NOT NULL REFERENCES tenants (tenant_id),
    object_id      TEXT NOT NULL,
    type           TEXT NOT NULL,
    display_name   TEXT NOT NULL,
    sign_in_name   TEXT NOT NULL DEFAULT '',
    sign_in_key    TEXT NOT NULL DEFAULT '', -- lower-cased sign_in_name, for lookup
    home_tenant_id TEXT NOT NULL DEFAULT '',
    home_object_id TEXT NOT NULL DEFAULT '',
    app_id         TEXT NOT NULL DEFAULT '',
    csp_delegated  BOOLEAN NOT NULL DEFAULT FALSE,
    valid_from     BIGINT,
    valid_to       BIGINT,
    PRIMARY KEY (tenant_id, object_id)
);
CREATE INDEX principals_app_id ON principals (app_id) WHERE app_id <> '';
CREATE INDEX principals_sign_in ON principals (sign_in_key) WHERE sign_in_key <> '';
CREATE INDEX principals_home ON principals (home_tenant_id, home_object_id) WHERE home_object_id <> '';

CREATE TABLE principal_secrets (
    tenant_id  TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, object_id, hash),
    FOREIGN KEY (tenant_id, object_id) REFERENCES principals (tenant_id, object_id)
);

CREATE TABLE partners (
    partner_id        TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    global_partner_id TEXT NOT NULL DEFAULT '',
    home_tenant_ids   TEXT NOT NULL DEFAULT '', -- comma-separated GUIDs
    valid_from        BIGINT,
    valid_to          BIGINT
);
CREATE INDEX partners_global ON partners (global_partner_id) WHERE global_partner_id <> '';

CREATE TABLE group_memberships (
    id         {{IDENTITY}},
    tenant_id  TEXT NOT NULL,
    group_id   TEXT NOT NULL,
    member_id  TEXT NOT NULL,
    valid_from BIGINT,
    valid_to   BIGINT
);
CREATE INDEX group_memberships_group ON group_memberships (tenant_id, group_id);

-- links holds every period of every link; the current link is the row with
-- valid_to IS NULL, at most one per principal and tenant.
CREATE TABLE links (
    id           {{IDENTITY}},
    tenant_id    TEXT NOT NULL,
    object_id    TEXT NOT NULL,
    partner_id   TEXT NOT NULL,
    valid_from   BIGINT,
    valid_to     BIGINT,
    version      INTEGER NOT NULL,
    created_time BIGINT NOT NULL,
    updated_time BIGINT NOT NULL
);
CREATE UNIQUE INDEX links_current ON links (tenant_id, object_id) WHERE valid_to IS NULL;
CREATE INDEX links_principal ON links (tenant_id, object_id);
CREATE INDEX links_partner ON links (partner_id);

CREATE TABLE link_events (
    id              {{IDENTITY}},
    tenant_id       TEXT NOT NULL,
    object_id       TEXT NOT NULL,
    action          TEXT NOT NULL,
    partner_id      TEXT NOT NULL,
    prev_partner_id TEXT NOT NULL DEFAULT '',
    version         INTEGER NOT NULL,
    at              BIGINT NOT NULL,
    actor_tenant_id TEXT NOT NULL,
    actor_object_id TEXT NOT NULL
);
CREATE INDEX link_events_tenant ON link_events (tenant_id, id);
CREATE INDEX link_events_partner ON link_events (partner_id, id);

-- outbox: notifications to the customer tenant, written in the same
-- transaction as the link change and delivered (with retries) afterwards.
CREATE TABLE outbox (
    id              {{IDENTITY}},
    tenant_id       TEXT NOT NULL,
    event_id        BIGINT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);

CREATE TABLE identity_grants (
    kind       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      {{BYTES}} NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (kind, key)
);

-- +goose Down
DROP TABLE identity_grants;
DROP TABLE outbox;
DROP TABLE link_events;
DROP TABLE links;
DROP TABLE group_memberships;
DROP TABLE partners;
DROP TABLE principal_secrets;
DROP TABLE principals;
DROP TABLE tenants;
