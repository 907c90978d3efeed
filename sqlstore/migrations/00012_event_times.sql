-- +goose Up
-- A close reads its month's link events and notifications by time
-- (docs/performance.md, "Monthly close"); without these indexes each close
-- scans the whole history, which grows with every link change.
CREATE INDEX link_events_at ON link_events (at);
CREATE INDEX outbox_created ON outbox (created_at);

-- +goose Down
DROP INDEX outbox_created;
DROP INDEX link_events_at;
