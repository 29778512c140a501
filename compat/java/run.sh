#!/usr/bin/env bash
# compat/java: the official Java clients from Maven Central against our mqnamesrv + mqbroker
# (from $RMQ_BUILDDIR, default ../../build), two client lines one after the other:
#   4.9.8  rocketmq-client, rocketmq-tools, rocketmq-acl 4.9.8
#   5.3.3  rocketmq-client, rocketmq-tools 5.3.3 (-P rocketmq5; the ACL hook is in the client)
# Maven resolves online into ~/.m2. When Maven, Java or an artifact cannot be had, the suite
# FAILS with CI=true and elsewhere prints one line and skips. Prints Surefire's counts, one
# "compat/java <version>: N passed, N failed" line per client line and the sum of both.
set -uo pipefail
cd "$(dirname "$0")"

unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/java: FAILED: $*"
    exit 1
  fi
  echo "compat/java: skipped: $*"
  exit 0
}
command -v mvn >/dev/null 2>&1 || unavailable "mvn is not installed"
command -v java >/dev/null 2>&1 || unavailable "java is not installed"
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
# Our servers keep logging to stderr, which this harness captures per server.
export RMQ_LOG_STDERR=1
if [ ! -x "$RMQ_BUILDDIR/mqnamesrv" ] || [ ! -x "$RMQ_BUILDDIR/mqbroker" ]; then
  echo "compat/java: FAILED: no mqnamesrv/mqbroker in $RMQ_BUILDDIR (build first)"
  exit 1
fi

log=$(mktemp)
# The first "could not download" error in $log (a dependency, a plugin, or an artifact not in
# ~/.m2 when offline), without Maven's prefix and colours.
resolve_error() {
  sed 's/\x1b\[[0-9;]*m//g' "$log" \
    | grep -m1 -E '^\[ERROR\] .*(Could not resolve|Could not transfer|could not be resolved|Failed to read artifact descriptor|Non-resolvable|in offline mode|No plugin found)' \
    | sed 's/^\[ERROR\] //' | cut -c1-240
}
trap 'rm -f "$log"' EXIT
status=0
summary=()
all_passed=0 all_failed=0 all_skipped=0
for line in "4.9.8:" "5.3.3:-P rocketmq5"; do
  version=${line%%:*}
  profile=${line#*:}
  # Dependencies and plugins first, quietly, so that a machine without them prints one line.
  # shellcheck disable=SC2086
  mvn -B -q $profile dependency:resolve dependency:resolve-plugins > "$log" 2>&1
  rc=$?
  [ "$rc" -ne 0 ] && unavailable "Maven artifacts for $version not available: $(resolve_error)"
  echo "compat/java $version: running against RMQ_BUILDDIR=$RMQ_BUILDDIR"
  # Debian's Maven ends with colour resets even in batch mode; they would glue onto our lines.
  # shellcheck disable=SC2086
  mvn -B -ntp $profile test 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' | tee "$log"
  rc=${PIPESTATUS[0]}
  # The Surefire provider is fetched only when the tests start.
  reason=$(resolve_error)
  [ "$rc" -ne 0 ] && [ -n "$reason" ] && unavailable "Maven artifacts for $version not available: $reason"
  # Surefire's closing totals: "Tests run: N, Failures: F, Errors: E, Skipped: S" (no "Time elapsed").
  totals=$(grep -E 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1)
  if [ -z "$totals" ]; then
    summary+=("compat/java $version: no test ran (Maven exit $rc, see above)")
    status=1
    continue
  fi
  read -r run failures errors skipped < <(printf '%s\n' "$totals" | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)$/\1 \2 \3 \4/')
  failed=$((failures + errors))
  passed=$((run - failed - skipped))
  text="compat/java $version: $passed passed, $failed failed"
  [ "$skipped" -gt 0 ] && text="$text, $skipped skipped"
  summary+=("$text")
  all_passed=$((all_passed + passed)) all_failed=$((all_failed + failed)) all_skipped=$((all_skipped + skipped))
  { [ "$rc" -ne 0 ] || [ "$failed" -gt 0 ]; } && status=1
done
printf '%s\n' "${summary[@]}"
echo "compat/java: $all_passed passed, $all_failed failed, $all_skipped skipped"
exit $status
