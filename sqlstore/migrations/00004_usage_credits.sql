-- +goose Up
-- Usage lives in files in the data directory; the store records each import
-- (content hash, rows, totals by currency) and the months it covers, so
-- imports are idempotent and a run reads only the files of its months.
CREATE TABLE usage_imports (
    hash        TEXT PRIMARY KEY, -- SHA-256 of the file as imported
    kind        TEXT NOT NULL,    -- focus (docs/api.md#focus-usage) or activity (docs/api.md#activity-csv)
    name        TEXT NOT NULL,    -- the file name given
    path        TEXT NOT NULL,    -- relative to the data directory
    rows        BIGINT NOT NULL,
    totals      TEXT NOT NULL,    -- JSON {"EUR": "12.5", …} of EffectiveCost (focus)
    has_usd     BOOLEAN NOT NULL, -- the file has x_EffectiveCostInUsd
    imported_at BIGINT NOT NULL
);

CREATE TABLE usage_import_months (
    hash  TEXT NOT NULL REFERENCES usage_imports (hash),
    month TEXT NOT NULL, -- YYYY-MM
    PRIMARY KEY (month, hash)
);

-- An attribution run on the server's state, and its credits per day.
CREATE TABLE attribution_runs (
    id         {{IDENTITY}},
    from_time  BIGINT NOT NULL,
    to_time    BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    summary    TEXT NOT NULL -- JSON of the run's summary
);

CREATE TABLE credits (
    run_id          BIGINT NOT NULL REFERENCES attribution_runs (id),
    day             TEXT NOT NULL, -- YYYY-MM-DD of ChargePeriodStart
    partner_id      TEXT NOT NULL,
    tenant_id       TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    resource_id     TEXT NOT NULL,
    currency        TEXT NOT NULL,
    attributed      TEXT NOT NULL, -- exact decimals as text
    eligible        TEXT NOT NULL,
    usage_rows      BIGINT NOT NULL
);
CREATE INDEX credits_run_partner ON credits (run_id, partner_id, day);
CREATE INDEX credits_run_tenant ON credits (run_id, tenant_id, day);

-- +goose Down
DROP TABLE credits;
DROP TABLE attribution_runs;
DROP TABLE usage_import_months;
DROP TABLE usage_imports;
