-- +goose Up
-- The partitioned usage store (docs/scale.md): each imported FOCUS file is
-- split once per store and bucket count into Parquet parts, one per month
-- and subscription bucket. usage_splits says a file was split (a file may
-- have no rows in a partition, so it has no part there).
CREATE TABLE usage_splits (
    store    TEXT    NOT NULL,
    buckets  INTEGER NOT NULL,
    hash     TEXT    NOT NULL REFERENCES usage_imports (hash),
    split_at BIGINT  NOT NULL,
    PRIMARY KEY (store, buckets, hash)
);
CREATE TABLE usage_parts (
    store    TEXT    NOT NULL,
    buckets  INTEGER NOT NULL,
    hash     TEXT    NOT NULL,
    month    TEXT    NOT NULL,
    bucket   INTEGER NOT NULL,
    part_key TEXT    NOT NULL,
    rows     BIGINT  NOT NULL,
    bytes    BIGINT  NOT NULL,
    PRIMARY KEY (store, buckets, hash, month, bucket),
    FOREIGN KEY (store, buckets, hash) REFERENCES usage_splits (store, buckets, hash)
);
-- Partitioned runs (a close split into month × bucket partitions): the
-- run's inputs (spec: gzip JSON with the world and the parts to read) and
-- each partition's progress and result (gzip, written once by whichever
-- worker finished it).
CREATE TABLE partition_runs (
    id          {{IDENTITY}},
    kind        TEXT    NOT NULL,
    month       TEXT    NOT NULL,
    buckets     INTEGER NOT NULL,
    store       TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    finished_at BIGINT,
    error       TEXT    NOT NULL DEFAULT '',
    rows        BIGINT  NOT NULL DEFAULT 0,
    spec        {{BYTES}} NOT NULL
);
CREATE TABLE run_partitions (
    run_id      BIGINT  NOT NULL REFERENCES partition_runs (id),
    bucket      INTEGER NOT NULL,
    state       TEXT    NOT NULL,
    rows        BIGINT  NOT NULL DEFAULT 0,
    attempts    INTEGER NOT NULL DEFAULT 0,
    worker      TEXT    NOT NULL DEFAULT '',
    started_at  BIGINT,
    finished_at BIGINT,
    result      {{BYTES}},
    PRIMARY KEY (run_id, bucket)
);

-- +goose Down
DROP TABLE run_partitions;
DROP TABLE partition_runs;
DROP TABLE usage_parts;
DROP TABLE usage_splits;
