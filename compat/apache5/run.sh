#!/usr/bin/env bash
# compat/apache5: Apache RocketMQ 5.3.3's own name server and broker from Maven Central beside
# our mqnamesrv + mqbroker ($RMQ_BUILDDIR), driven by the 5.3.3 remoting client and admin: stores
# (pending timers, POP state, delay levels) moved between the two brokers both ways.
# Needs java 17+ and mvn. With CI=true an artifact that does not resolve fails the suite;
# elsewhere it prints one line and skips. Ends with "compat/apache5: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")"
skip() {
  if [ "${CI:-}" = true ]; then echo "compat/apache5: FAILED: $*"; echo "compat/apache5: 0 passed, 1 failed"; exit 1; fi
  echo "compat/apache5: skipped: $*"; exit 0
}
command -v mvn >/dev/null 2>&1 || skip "mvn is not installed"
command -v java >/dev/null 2>&1 || skip "java is not installed"
# Resolves both dependency sets and writes target/servers.classpath.
if ! out=$(timeout 600 mvn -B -q generate-test-resources 2>&1); then
  reason=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 '^\[ERROR\] .' | sed 's/^\[ERROR\] //' | cut -c1-200)
  skip "Maven artifacts do not resolve (${reason:-mvn generate-test-resources failed})"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
export RMQ_LOG_STDERR=1
echo "compat/apache5: running with RMQ_BUILDDIR=$RMQ_BUILDDIR"
rm -rf target/surefire-reports
rc=0
timeout 900 mvn -B --no-transfer-progress test "$@" || rc=$?
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
echo "compat/apache5: $passed passed, $failed failed"
exit "$rc"
