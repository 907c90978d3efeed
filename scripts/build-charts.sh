#!/usr/bin/env bash
# Builds the portal's charts bundle, portal/static/charts.js, from
# portal/charts (Apache ECharts and esbuild, pinned by its package-lock.json).
# With --check it builds into a temporary file and fails when the committed
# bundle is not byte for byte what the pinned sources build.
# See docs/portal.md, "Charts".
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --prefix portal/charts --ignore-scripts --no-audit --no-fund >/dev/null
out=portal/static/charts.js
if [ "${1:-}" = --check ]; then
  out=$(mktemp /tmp/charts.XXXXXX.js)
  trap 'rm -f "$out"' EXIT
fi
portal/charts/node_modules/.bin/esbuild portal/charts/src/charts.js --bundle --format=iife --minify \
  --target=es2020 --legal-comments=eof --charset=utf8 --log-level=warning --outfile="$out"
if [ "${1:-}" = --check ]; then
  if ! cmp -s "$out" portal/static/charts.js; then
    echo "portal/static/charts.js is not what scripts/build-charts.sh builds; run scripts/build-charts.sh and commit" >&2
    exit 1
  fi
  echo "portal/static/charts.js is what scripts/build-charts.sh builds"
fi
