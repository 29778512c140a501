#!/usr/bin/env bash
# compat/grpc-node: the RocketMQ 5.x gRPC Node.js SDK (rocketmq-client-nodejs from npm, the
# versions package-lock.json pins) against a name server + broker serving gRPC, started here
# on free ports (compat/grpc-common/servers.sh): ours from $RMQ_BUILDDIR (default
# ../../build), or with TARGET=apache Apache RocketMQ 5.3.3's name server and proxy in local
# mode. Runs Node's own test runner; extra arguments go to it (e.g. --test-name-pattern=delay).
# Where node/npm or the packages cannot be had the suite FAILS with CI=true and elsewhere
# prints one line and skips. Ends with "compat/grpc-node: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
TARGET=${TARGET:-ours}
unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/grpc-node: FAILED: $*"; echo "compat/grpc-node: 0 passed, 1 failed"; exit 1
  fi
  echo "compat/grpc-node: skipped: $*"; exit 0
}
command -v node >/dev/null 2>&1 || unavailable "node is not installed"
command -v npm >/dev/null 2>&1 || unavailable "npm is not installed"
if [ ! -d node_modules/rocketmq-client-nodejs ]; then
  if ! out=$(timeout 600 npm ci --no-audit --no-fund 2>&1); then
    unavailable "npm ci failed: $(printf '%s\n' "$out" | grep -m1 -i 'err' | cut -c1-200)"
  fi
fi
# shellcheck source=../grpc-common/servers.sh
source ../grpc-common/servers.sh
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
if [ "$TARGET" = apache ]; then
  reason=$(grpc_apache_classpath) || unavailable "Apache RocketMQ 5.3.3 does not resolve: $reason"
  grpc_apache_classpath >/dev/null
elif [ ! -x "$RMQ_BUILDDIR/mqnamesrv" ] || [ ! -x "$RMQ_BUILDDIR/mqbroker" ]; then
  echo "compat/grpc-node: FAILED: no mqnamesrv/mqbroker in $RMQ_BUILDDIR (build first)"; exit 1
fi
trap grpc_servers_stop EXIT
echo "compat/grpc-node: rocketmq-client-nodejs $(node -p 'require("rocketmq-client-nodejs/package.json").version'), starting $TARGET servers"
grpc_servers_start "$PWD/target/servers" || { echo "compat/grpc-node: 0 passed, 1 failed"; exit 1; }
echo "compat/grpc-node: gRPC at $GRPC_ENDPOINT"
mkdir -p target/home target
log=target/test.log
# The SDK logs under ~/logs/rocketmq: HOME points into target/. One test at a time; the
# SDK leaves timers behind after shutdown, so the runner exits when the tests are done.
HOME=$PWD/target/home timeout 600 node --test --test-force-exit --test-concurrency=1 "$@" grpc-sdk.test.js 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
passed=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | tail -1)
failed=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | tail -1)
passed=${passed:-0} failed=${failed:-0}
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "compat/grpc-node: $passed passed, $failed failed"
exit "$rc"
