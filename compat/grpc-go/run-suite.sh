#!/usr/bin/env bash
# compat/grpc-go: the RocketMQ 5.x gRPC Go SDK (github.com/apache/rocketmq-clients/golang/v5, the
# version go.mod pins, hashes in go.sum) against a name server + broker serving gRPC, started
# here on free ports (compat/grpc-common/servers.sh): ours from $RMQ_BUILDDIR (default
# ../../build), or with TARGET=apache Apache RocketMQ 5.3.3's name server and proxy in local
# mode. Extra arguments go to `go test` (e.g. -run TestDelay). Where Go or the modules cannot be
# had the suite FAILS with CI=true and elsewhere prints one line and skips.
# Ends with "compat/grpc-go: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
TARGET=${TARGET:-ours}
unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/grpc-go: FAILED: $*"; echo "compat/grpc-go: 0 passed, 1 failed"; exit 1
  fi
  echo "compat/grpc-go: skipped: $*"; exit 0
}
command -v go >/dev/null 2>&1 || unavailable "go is not installed"
# Resolves (downloads and checks against go.sum) every module the tests build with.
if ! out=$(timeout 300 go list -deps -test ./... 2>&1 >/dev/null); then
  unavailable "the modules of go.mod do not resolve ($(printf '%s\n' "$out" | grep -v '^go: downloading' | grep -m1 . | cut -c1-200))"
fi
# shellcheck source=../grpc-common/servers.sh
source ../grpc-common/servers.sh
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
if [ "$TARGET" = apache ]; then
  reason=$(grpc_apache_classpath) || unavailable "Apache RocketMQ 5.3.3 does not resolve: $reason"
  grpc_apache_classpath >/dev/null
elif [ ! -x "$RMQ_BUILDDIR/mqnamesrv" ] || [ ! -x "$RMQ_BUILDDIR/mqbroker" ]; then
  echo "compat/grpc-go: FAILED: no mqnamesrv/mqbroker in $RMQ_BUILDDIR (build first)"; exit 1
fi
# Compiled before the servers start, so that their clock does not run during the build.
timeout 300 go test -c -o target/grpc-go.test . || { echo "compat/grpc-go: 0 passed, 1 failed"; exit 1; }
trap grpc_servers_stop EXIT
echo "compat/grpc-go: $(go list -m github.com/apache/rocketmq-clients/golang/v5), starting $TARGET servers"
grpc_servers_start "$PWD/target/servers" || { echo "compat/grpc-go: 0 passed, 1 failed"; exit 1; }
echo "compat/grpc-go: gRPC at $GRPC_ENDPOINT"
log=target/test.log
rc=0
# The SDK's log file goes under target/ (the variable's name has dots; read once at start).
env "rocketmq.client.logRoot=$PWD/target/client-logs" timeout 600 target/grpc-go.test -test.v -test.timeout 5m "$@" \
  2>&1 | tee "$log" || rc=$?
rc=${PIPESTATUS[0]}
passed=$(grep -c '^--- PASS: ' "$log")
failed=$(grep -c '^--- FAIL: ' "$log")
# A crash, a failed TestMain or the timeout fails the run without a FAIL line.
[ "$rc" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1
echo "compat/grpc-go: $passed passed, $failed failed"
exit "$rc"
