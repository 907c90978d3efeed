-- +goose Up
-- The outbox is keyed by its link event: one notification per event, found
-- by the event's id (a rowid on SQLite). Its own id and its index by tenant
-- made every link change write two more B-tree pages, one of them at a
-- random place (the tenant's); that was about a tenth of a link write
-- (bench links). A tenant's notifications are listed through its events.
-- The rows go through a copy so that the new table, its key and its index
-- get the names a fresh schema has.
CREATE TABLE outbox_copy AS SELECT * FROM outbox;
DROP TABLE outbox;
CREATE TABLE outbox (
    event_id        {{ROWID}},
    tenant_id       TEXT NOT NULL,
    payload         TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    failed_at       BIGINT,
    last_error      TEXT NOT NULL DEFAULT '',
    created_at      BIGINT NOT NULL
);
INSERT INTO outbox (event_id, tenant_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at)
SELECT event_id, tenant_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at
FROM outbox_copy;
DROP TABLE outbox_copy;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- +goose Down
CREATE TABLE outbox_copy AS SELECT * FROM outbox;
DROP TABLE outbox;
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
INSERT INTO outbox (tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at)
SELECT tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at
FROM outbox_copy ORDER BY event_id;
DROP TABLE outbox_copy;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);
