#!/usr/bin/env bash
# compat/console: mqconsole's pages in a real browser — Debian's Chromium, headless,
# driven by playwright-core from npm — against our mqnamesrv + mqbroker fed by ali-ons.
# Screenshots of every page land in compat/console/artifacts/. Needs node, npm, chromium.
set -uo pipefail
cd "$(dirname "$0")"
# Our servers keep logging to stderr, which the harness captures per server.
export RMQ_LOG_STDERR=1
export CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}

# Without its artifacts the suite skips, or fails under CI=true.
unavailable() {
  if [ "${CI:-}" = true ]; then echo "compat/console: 0 passed, 1 failed ($1)"; exit 1; fi
  echo "compat/console: skipped: $1"
  exit 0
}
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || unavailable "node/npm is not installed"
[ -x "$CHROMIUM" ] || unavailable "$CHROMIUM is not installed (apt-get install chromium)"
[ -x "$RMQ_BUILDDIR/mqconsole" ] || unavailable "$RMQ_BUILDDIR/mqconsole is not built"
npm ci --no-audit --no-fund --silent >/dev/null 2>&1 || npm install --no-audit --no-fund --silent >/dev/null 2>&1 ||
  unavailable "npm could not install playwright-core and ali-ons"

rm -rf artifacts
mkdir -p artifacts
start=$(date +%s)
timeout 180 node --test --test-concurrency=1 --test-reporter=tap test/ > artifacts/tap.txt 2>&1
rc=$?
pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' artifacts/tap.txt | tail -1)
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' artifacts/tap.txt | tail -1)
if [ -z "$pass" ] || [ -z "$fail" ]; then
  # The run ended (timeout, crash) before node printed its counts.
  pass=$(grep -c '^ok ' artifacts/tap.txt)
  fail=$(( $(grep -c '^not ok ' artifacts/tap.txt) + 1 ))
fi
[ "$rc" -eq 0 ] || [ "$fail" -gt 0 ] || fail=1
[ "$fail" -eq 0 ] || grep -v '^ok \|^# \|^TAP' artifacts/tap.txt | head -80
echo "compat/console: $pass passed, $fail failed ($(( $(date +%s) - start )) s; screenshots in compat/console/artifacts/)"
[ "$fail" -eq 0 ]
