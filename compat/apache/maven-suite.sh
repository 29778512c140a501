#!/usr/bin/env bash
# Runs one Maven compat suite that starts Apache's servers beside ours (compat/apache,
# compat/apache5): `maven-suite.sh NAME TIMEOUT_S [mvn test args...]`, from the suite's
# directory. Needs java 17+ and mvn. With CI=true an artifact that does not resolve fails
# the suite; elsewhere it prints one line and skips. Ends with "NAME: N passed, N failed",
# counted from Surefire's reports (a class that could not start its servers counts its error).
set -euo pipefail
name=$1 limit=$2
shift 2
skip() {
  if [ "${CI:-}" = true ]; then echo "$name: FAILED: $*"; echo "$name: 0 passed, 1 failed"; exit 1; fi
  echo "$name: skipped: $*"; exit 0
}
command -v mvn >/dev/null 2>&1 || skip "mvn is not installed"
command -v java >/dev/null 2>&1 || skip "java is not installed"
# Resolves the dependency sets and writes target/*.classpath.
if ! out=$(timeout 600 mvn -B -q generate-test-resources 2>&1); then
  reason=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 '^\[ERROR\] .' | sed 's/^\[ERROR\] //' | cut -c1-200)
  skip "Maven artifacts do not resolve (${reason:-mvn generate-test-resources failed})"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
# Our servers keep logging to stderr, which the harness captures per server.
export RMQ_LOG_STDERR=1
echo "$name: running with RMQ_BUILDDIR=$RMQ_BUILDDIR"
rm -rf target/surefire-reports
rc=0
timeout "$limit" mvn -B --no-transfer-progress test "$@" || rc=$?
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
echo "$name: $passed passed, $failed failed"
exit "$rc"
