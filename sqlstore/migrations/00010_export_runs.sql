-- +goose Up
-- Export runs read from a usage source (docs/usage-sources.md): each run is
-- recorded once with its files; of the runs of one export and period, only
-- the latest (submitted_at, then run_key) is read by attribution.
CREATE TABLE export_runs (
    run_key      TEXT   NOT NULL PRIMARY KEY,
    source       TEXT   NOT NULL,
    export_key   TEXT   NOT NULL,
    submitted_at BIGINT NOT NULL,
    imported_at  BIGINT NOT NULL,
    rows         BIGINT NOT NULL
);
CREATE INDEX export_runs_by_export ON export_runs (export_key, submitted_at, run_key);
CREATE TABLE export_run_files (
    run_key TEXT    NOT NULL REFERENCES export_runs (run_key),
    hash    TEXT    NOT NULL REFERENCES usage_imports (hash),
    part    INTEGER NOT NULL,
    PRIMARY KEY (run_key, part)
);
CREATE INDEX export_run_files_by_hash ON export_run_files (hash);

-- +goose Down
DROP TABLE export_run_files;
DROP TABLE export_runs;
