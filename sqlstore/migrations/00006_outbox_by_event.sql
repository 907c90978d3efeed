-- +goose Up
-- The outbox is keyed by its link event: one notification per event, found
-- by the event's id (a rowid on SQLite). Its own id and its index by tenant
-- made every link change write two more B-tree pages, one of them at a
-- random place (the tenant's); that was about a tenth of a link write
-- (bench links). A tenant's notifications are listed through its events.
CREATE TABLE outbox_by_event (
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
INSERT INTO outbox_by_event (event_id, tenant_id, payload, attempts, next_attempt_at, delivered_at, failed_at,
    last_error, created_at)
SELECT event_id, tenant_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at
FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_by_event RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;

-- +goose Down
CREATE TABLE outbox_by_id (
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
INSERT INTO outbox_by_id (tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, failed_at,
    last_error, created_at)
SELECT tenant_id, event_id, payload, attempts, next_attempt_at, delivered_at, failed_at, last_error, created_at
FROM outbox ORDER BY event_id;
DROP TABLE outbox;
ALTER TABLE outbox_by_id RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX outbox_tenant ON outbox (tenant_id, id);
