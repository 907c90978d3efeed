-- +goose Up
-- An import's rows, whatever their encoding (docs/rules.md, "Usage
-- input"): a gzip copy, other line ends or the same rows as Parquet are
-- the same usage, imported once. Imports recorded before have none.
ALTER TABLE usage_imports ADD COLUMN content TEXT NOT NULL DEFAULT '';
-- Unique, so that two imports of the same rows at once record one.
CREATE UNIQUE INDEX usage_imports_content ON usage_imports (kind, content) WHERE content <> '';

-- +goose Down
DROP INDEX usage_imports_content;
ALTER TABLE usage_imports DROP COLUMN content;
