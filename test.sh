#!/usr/bin/env bash
# The whole test suite. On a fresh Debian machine with Go it installs what the
# tests need (PostgreSQL, azure-cli, python3-azure, chromium, npm packages), starts a
# throw-away PostgreSQL on 127.0.0.1, and runs every test: the root module
# (unit, store conformance on SQLite and PostgreSQL) and the e2e module (the
# real Azure clients and the browser against a real server), and the bench's
# agreement check: DuckDB and partnerlink credit byte for byte alike.
set -euo pipefail
cd "$(dirname "$0")"

need=()
# make, gcc and g++: the bench's agreement check links DuckDB through cgo.
for pkg in postgresql azure-cli python3-azure chromium make gcc g++; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
# Node.js and npm (the charts bundle check and axe-core): Debian's unless the
# machine has its own.
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing ${need[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

echo "== starting a throw-away PostgreSQL"
pgdir=$(mktemp -d /tmp/partnerlink-pg.XXXXXX)
port=${PARTNERLINK_TEST_PG_PORT:-55432}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
stop_pg() { runas "$bin/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$pgdir"; }
runas() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
trap stop_pg EXIT
export PARTNERLINK_TEST_POSTGRES=$(scripts/pg-throwaway.sh "$pgdir" "$port")

echo "== go mod tidy (root, e2e and bench modules)"
for m in . e2e bench; do
  (cd "$m" && go mod tidy -diff >/dev/null) || { echo "go.mod of module '$m' is not tidy: run (cd $m && go mod tidy)"; exit 1; }
done

echo "== gofmt, go vet"
unformatted=$(gofmt -l . | grep -v '^e2e/testdata/' || true)
if [ -n "$unformatted" ]; then echo "gofmt would change:"; echo "$unformatted"; exit 1; fi
go vet ./...
(cd e2e && go vet ./...)
echo "== staticcheck"
go run honnef.co/go/tools/cmd/staticcheck@v0.8.2 ./...

echo "== unit, conformance and integration tests (SQLite and PostgreSQL)"
go test -race -count=1 ./...

echo "== the link load test's own tests (bench module)"
(cd bench && go vet ./loadtest/ ./cmd/links/ ./cmd/profile/ && go test -race -count=1 ./loadtest/)

echo "== DuckDB and partnerlink credit alike (bench: make check; five small worlds, CSV and Parquet)"
# Its timings are no targets at this size (bench/README.md); the lines
# that say the outputs agree are, and a disagreement fails the run.
checklog=$(mktemp /tmp/partnerlink-check.XXXXXX)
if ! (cd bench && make check) >"$checklog" 2>&1; then tail -40 "$checklog"; exit 1; fi
grep -E "CSV identical|output =|= CSV output|equal rows" "$checklog"
rm -f "$checklog"

echo "== the portal's charts bundle is what its pinned sources build"
scripts/build-charts.sh --check

echo "== npm packages of the e2e tests (axe-core), from e2e/package-lock.json"
npm ci --prefix e2e --ignore-scripts --no-audit --no-fund >/dev/null

echo "== end-to-end tests with real clients (Go SDK, Python SDK, az CLI, partnerlink CLI, Chromium)"
(cd e2e && go test -count=1 -timeout 20m ./...)
