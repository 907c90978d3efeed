#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1 and prints its URL.
# Usage: scripts/pg-throwaway.sh DIR [PORT]   (stop: pg_ctl -D DIR/data stop)
set -euo pipefail
dir=$1
port=${2:-54329}
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
mkdir -p "$dir"
run() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; fi
if [ ! -f "$dir/data/PG_VERSION" ]; then
  run "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1
fi
run "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=300" start >/dev/null
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
