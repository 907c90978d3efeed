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

# The notices the bundle must carry, taken from the pinned packages: Apache
# ECharts' license header and NOTICE, the d3.js code ECharts embeds
# (BSD-3-Clause) and ZRender's license (BSD-3-Clause). esbuild keeps only /*!
# comments (tslib's, ZRender's; at the end of the file), and ECharts' own
# headers are plain /* comments, so they go in as a banner.
m=portal/charts/node_modules
banner="/*!
 * Apache ECharts $(node -p 'require("./'$m'/echarts/package.json").version'), bundled for the partnerlink portal.
 *
 * Licensed to the Apache Software Foundation (ASF) under one
 * or more contributor license agreements.  See the NOTICE file
 * distributed with this work for additional information
 * regarding copyright ownership.  The ASF licenses this file
 * to you under the Apache License, Version 2.0 (the
 * \"License\"); you may not use this file except in compliance
 * with the License.  You may obtain a copy of the License at
 *
 *   http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing,
 * software distributed under the License is distributed on an
 * \"AS IS\" BASIS, WITHOUT WARRANTIES OR CONDITIONS OF ANY
 * KIND, either express or implied.  See the License for the
 * specific language governing permissions and limitations
 * under the License.
 *
 * NOTICE:
$(sed 's/^/ * /; s/ *$//; s#\*/#* /#g' $m/echarts/NOTICE)
 *
 * Apache ECharts embeds code from d3.js (BSD-3-Clause):
$(sed 's/^/ * /; s/ *$//; s#\*/#* /#g' $m/echarts/licenses/LICENSE-d3)
 *
 * ZRender $(node -p 'require("./'$m'/zrender/package.json").version'):
$(sed 's/^/ * /; s/ *$//; s#\*/#* /#g' $m/zrender/LICENSE)
 */"
if [ "${1:-}" = --check ]; then
  out=$(mktemp /tmp/charts.XXXXXX.js)
  trap 'rm -f "$out"' EXIT
fi
portal/charts/node_modules/.bin/esbuild portal/charts/src/charts.js --bundle --format=iife --minify \
  --target=es2020 --legal-comments=eof --charset=utf8 --log-level=warning --banner:js="$banner" \
  --outfile="$out"
if [ "${1:-}" = --check ]; then
  if ! cmp -s "$out" portal/static/charts.js; then
    echo "portal/static/charts.js is not what scripts/build-charts.sh builds; run scripts/build-charts.sh and commit" >&2
    exit 1
  fi
  echo "portal/static/charts.js is what scripts/build-charts.sh builds"
fi
