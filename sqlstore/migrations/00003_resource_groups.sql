-- +goose Up
-- Resource groups exist only as scopes in the world document; the ARM API
-- creates and lists them.
CREATE TABLE resource_groups (
    subscription_id TEXT NOT NULL,
    name            TEXT NOT NULL, -- as first written
    name_key        TEXT NOT NULL, -- lower-cased
    location        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (subscription_id, name_key)
);
CREATE INDEX delegations_customer ON delegations (customer_tenant_id);
CREATE INDEX delegations_id ON delegations (id);

-- +goose Down
DROP INDEX delegations_id;
DROP INDEX delegations_customer;
DROP TABLE resource_groups;
