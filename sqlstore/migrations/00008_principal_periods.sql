-- +goose Up
-- A principal may be disabled and enabled again (docs/rules.md, "Principals:
-- enabled periods"). principals keeps one row per principal with its latest
-- enabled period, which is what sign-in, token validation and link writes
-- read; principal_periods keeps the periods before it, each ending at or
-- before the next one starts. earlier_periods counts them, so that reading a
-- principal that was never enabled again (nearly all) costs no second
-- lookup. Every existing principal has one period: its own row's.
ALTER TABLE principals ADD COLUMN earlier_periods INTEGER NOT NULL DEFAULT 0;
CREATE TABLE principal_periods (
    tenant_id  TEXT NOT NULL,
    object_id  TEXT NOT NULL,
    valid_from BIGINT,
    valid_to   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, object_id, valid_to),
    FOREIGN KEY (tenant_id, object_id) REFERENCES principals (tenant_id, object_id)
);

-- +goose Down
-- The latest period of each principal stays in principals; earlier periods
-- are dropped.
DROP TABLE principal_periods;
ALTER TABLE principals DROP COLUMN earlier_periods;
