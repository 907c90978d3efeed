-- +goose Up
-- The published versions of each month's reports (docs/rules.md#monthly-close).
-- A version is written once, in one transaction, and never changed. The
-- content is gzip-compressed JSON (a large month's is hundreds of megabytes).
CREATE TABLE report_versions (
    month        TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    published_at BIGINT  NOT NULL,
    hash         TEXT    NOT NULL,
    content      {{BYTES}} NOT NULL,
    restatement  TEXT    NOT NULL,
    PRIMARY KEY (month, version)
);

-- +goose Down
DROP TABLE report_versions;
