#!/usr/bin/env bash
# compat/grpc-java: the RocketMQ 5.x gRPC Java SDK (org.apache.rocketmq:rocketmq-client-java,
# Maven Central) against a name server + broker serving gRPC, started here on free ports
# (compat/grpc-common/servers.sh): ours from $RMQ_BUILDDIR (default ../../build), or with
# TARGET=apache Apache RocketMQ 5.3.3's name server and proxy in local mode. Extra arguments
# go to Maven (e.g. -Dtest=GrpcSdkTest#delayMessageArrivesOnTime). When Maven, Java or an
# artifact cannot be had the suite FAILS with CI=true and elsewhere prints one line and skips.
# Ends with "compat/grpc-java: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
TARGET=${TARGET:-ours}
unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/grpc-java: FAILED: $*"; echo "compat/grpc-java: 0 passed, 1 failed"; exit 1
  fi
  echo "compat/grpc-java: skipped: $*"; exit 0
}
command -v mvn >/dev/null 2>&1 || unavailable "mvn is not installed"
command -v java >/dev/null 2>&1 || unavailable "java is not installed"
# shellcheck source=../grpc-common/servers.sh
source ../grpc-common/servers.sh
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
if [ "$TARGET" = apache ]; then
  reason=$(grpc_apache_classpath) || unavailable "Apache RocketMQ 5.3.3 does not resolve: $reason"
  grpc_apache_classpath >/dev/null
elif [ ! -x "$RMQ_BUILDDIR/mqnamesrv" ] || [ ! -x "$RMQ_BUILDDIR/mqbroker" ]; then
  echo "compat/grpc-java: FAILED: no mqnamesrv/mqbroker in $RMQ_BUILDDIR (build first)"; exit 1
fi
if ! out=$(timeout 600 mvn -B -q dependency:resolve dependency:resolve-plugins 2>&1); then
  unavailable "Maven artifacts not available: $(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' \
    | grep -m1 '^\[ERROR\] .' | sed 's/^\[ERROR\] //' | cut -c1-240)"
fi
trap grpc_servers_stop EXIT
echo "compat/grpc-java: starting $TARGET servers"
grpc_servers_start "$PWD/target/servers" || { echo "compat/grpc-java: 0 passed, 1 failed"; exit 1; }
echo "compat/grpc-java: gRPC at $GRPC_ENDPOINT, name server $NAMESRV_ADDR"
log=target/test.log
mkdir -p target
rc=0
timeout 600 mvn -B -ntp test "$@" 2>&1 | sed -u 's/\x1b\[[0-9;]*m//g' | tee "$log"
rc=${PIPESTATUS[0]}
# Surefire's closing totals: "Tests run: N, Failures: F, Errors: E, Skipped: S" (no "Time elapsed").
totals=$(grep -E 'Tests run: [0-9]+, Failures: [0-9]+, Errors: [0-9]+, Skipped: [0-9]+$' "$log" | tail -1)
read -r run failures errors skipped < <(printf '%s\n' "${totals:-Tests run: 0, Failures: 0, Errors: 0, Skipped: 0}" \
  | sed -E 's/.*Tests run: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+), Skipped: ([0-9]+)$/\1 \2 \3 \4/')
failed=$((failures + errors))
# A build error or the timeout fails the run without totals.
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "compat/grpc-java: $((run - failed - skipped)) passed, $failed failed"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
