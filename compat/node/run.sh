#!/usr/bin/env bash
# compat/node: ali-ons (npm) against our mqnamesrv + mqbroker. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")"
# Our servers keep logging to stderr, which this harness captures per server.
export RMQ_LOG_STDERR=1
if ! command -v node >/dev/null 2>&1; then echo "compat/node: skipped: node is not installed"; exit 0; fi
npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund --silent >/dev/null
RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build} node --test --test-concurrency=1 test/
