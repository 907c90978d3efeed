package duck

import (
	"context"
	"database/sql"
	"fmt"
	"os"

	"github.com/duckdb/duckdb-go/v2"
)

// ToParquet writes the FOCUS CSV at csvPath as Parquet at out, the way a
// cost export's Parquet parts are typed: instants as TIMESTAMP, amounts
// as DECIMAL(18,6) (the generator writes at most six places, so the
// values are the same), text as VARCHAR; columns nullable, zstd, row
// groups of 122,880 rows (DuckDB's default). The file is written beside
// and renamed, so a file at out is always whole.
func ToParquet(ctx context.Context, csvPath, out string, header []string) error {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	cols := columnsTyped(header, "DECIMAL(18,6)")
	tmp := out + ".tmp"
	q := fmt.Sprintf(`COPY (SELECT * FROM read_csv(%s, header = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
		columns = %s)) TO %s (FORMAT parquet, COMPRESSION zstd)`, quote(csvPath), cols, quote(tmp))
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("duckdb: write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

// ToParquetVariant writes the Parquet file at in again with another codec
// (uncompressed, snappy, gzip, zstd, lz4, brotli), data pages of another
// format version (V1, V2: DuckDB's V2 has delta encodings) and the
// amounts as DOUBLE when double is set, in row groups of 100,000 rows,
// as other writers may make a file.
func ToParquetVariant(ctx context.Context, in, out, codec, version string, double bool) error {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	sel := "*"
	if double {
		sel = "* REPLACE (CAST(EffectiveCost AS DOUBLE) AS EffectiveCost, CAST(BilledCost AS DOUBLE) AS BilledCost)"
	}
	tmp := out + ".tmp"
	q := fmt.Sprintf(`COPY (SELECT %s FROM read_parquet(%s)) TO %s (FORMAT parquet, COMPRESSION %s, PARQUET_VERSION %s, ROW_GROUP_SIZE 100000)`,
		sel, quote(in), quote(tmp), codec, version)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("duckdb: write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}

// ToParquetFile is ToParquet with the CSV's own header.
func ToParquetFile(ctx context.Context, csvPath, out string) error {
	header, err := readHeader(csvPath)
	if err != nil {
		return err
	}
	return ToParquet(ctx, csvPath, out, header)
}

// ToParquetCostsAs writes the Parquet file at in again with EffectiveCost
// and BilledCost as the SQL type typ (DOUBLE, DECIMAL(38,18)…), as other
// exports type costs (docs/performance.md, "Parquet as other writers make
// it").
func ToParquetCostsAs(ctx context.Context, in, out, typ string) error {
	connector, err := duckdb.NewConnector("", nil)
	if err != nil {
		return err
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	tmp := out + ".tmp"
	q := fmt.Sprintf(`COPY (SELECT * REPLACE (CAST(EffectiveCost AS %[3]s) AS EffectiveCost, CAST(BilledCost AS %[3]s) AS BilledCost)
		FROM read_parquet(%[1]s)) TO %[2]s (FORMAT parquet, COMPRESSION zstd)`, quote(in), quote(tmp), typ)
	if _, err := db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("duckdb: write %s: %w", out, err)
	}
	return os.Rename(tmp, out)
}
