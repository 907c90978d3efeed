-- +goose Up
-- The audit of Power Platform ownership changes made through the API and
-- the CLI: who changed what, when. The ownership table is part of the world
-- document (a world import replaces it); these events are not, and are
-- kept forever, like link events.
CREATE TABLE ownership_events (
    id           {{IDENTITY}},
    resource_id  TEXT NOT NULL,
    action       TEXT NOT NULL, -- SetOwner, AddCoOwner, RemoveCoOwner, Publish, ImportSolution
    principal_id TEXT NOT NULL, -- the principal the change names
    actor        TEXT NOT NULL, -- tenant/object of the caller, or "operator" for the CLI
    at           BIGINT NOT NULL
);
CREATE INDEX ownership_events_resource ON ownership_events (resource_id);

-- Resource ids are compared case-insensitively.
CREATE INDEX pp_resources_key ON pp_resources (lower(id));
CREATE INDEX ownership_resource_key ON ownership (lower(resource_id));

-- +goose Down
DROP INDEX ownership_resource_key;
DROP INDEX pp_resources_key;
DROP TABLE ownership_events;
