#!/usr/bin/env bash
# compat/apache: Apache RocketMQ's own name server and broker (4.9.7) and official mqadmin /
# client (4.9.8), from Maven Central, beside our mqnamesrv + mqbroker ($RMQ_BUILDDIR).
# Needs java 17+ and mvn. With CI=true an artifact that does not resolve fails the suite;
# elsewhere it prints one line and skips. Ends with "compat/apache: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
skip() {
  if [ "${CI:-}" = true ]; then echo "compat/apache: FAILED: $*"; echo "compat/apache: 0 passed, 1 failed"; exit 1; fi
  echo "compat/apache: skipped: $*"; exit 0
}
command -v mvn >/dev/null 2>&1 || skip "mvn is not installed"
command -v java >/dev/null 2>&1 || skip "java is not installed"
# Resolves both dependency sets and writes target/{tools,servers}.classpath.
if ! out=$(timeout 600 mvn -B -q generate-test-resources 2>&1); then
  reason=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 '^\[ERROR\] .' | sed 's/^\[ERROR\] //' | cut -c1-200)
  skip "Maven artifacts do not resolve (${reason:-mvn generate-test-resources failed})"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
# Our servers keep logging to stderr, which this harness captures per server.
export RMQ_LOG_STDERR=1
echo "compat/apache: running with RMQ_BUILDDIR=$RMQ_BUILDDIR"
rm -rf target/surefire-reports
rc=0
timeout 1200 mvn -B --no-transfer-progress test "$@" || rc=$?
# Counts from the reports: a class that could not start its servers counts its error.
attr() { printf '%s\n' "$head" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
tests=0 failed=0
for f in target/surefire-reports/TEST-*.xml; do
  [ -e "$f" ] || continue
  head=$(grep -m1 -o '<testsuite [^>]*>' "$f" || true)
  tests=$((tests + $(attr tests) - $(attr skipped)))
  failed=$((failed + $(attr failures) + $(attr errors)))
done
passed=$((tests - failed))
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "compat/apache: $passed passed, $failed failed"
exit "$rc"
