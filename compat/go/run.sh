#!/usr/bin/env bash
# compat/go: apache/rocketmq-client-go v2 (the version go.mod pins, hashes in go.sum) against
# our mqnamesrv + mqbroker, which the tests start from RMQ_BUILDDIR (default ../../build).
# Modules come from GOPROXY (proxy.golang.org by default). Where Go or the modules cannot be
# had, the suite prints one line and skips; with CI=true it fails instead.
set -euo pipefail
cd "$(dirname "$0")"
unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/go: FAILED: $*"
    exit 1
  fi
  echo "compat/go: skipped: $*"
  exit 0
}
command -v go >/dev/null 2>&1 || unavailable "go is not installed"
# Resolves (downloads and checks against go.sum) every module the tests build with.
if ! out=$(timeout 300 go list -deps -test ./... 2>&1 >/dev/null); then
  unavailable "the modules of go.mod do not resolve ($(printf '%s\n' "$out" | grep -v '^go: downloading' | grep -m1 . | cut -c1-200))"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
# Our servers keep logging to stderr, which this harness captures per server.
export RMQ_LOG_STDERR=1
echo "compat/go: $(go version | cut -d' ' -f3), $(go list -m github.com/apache/rocketmq-client-go/v2), RMQ_BUILDDIR=$RMQ_BUILDDIR"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
log=$tmp/test.log
rc=0
# Broadcasting consumers keep their offsets in files under this directory (the client
# reads the variable, whose name has dots, once at start; the default is ~/.rocketmq_client_go).
env "rocketmq.client.localOffsetStoreDir=$tmp/offsets" go test -count=1 -timeout 5m -v ./... 2>&1 | tee "$log" || rc=$?
passed=$(grep -c '^--- PASS: ' "$log" || true)
failed=$(grep -c '^--- FAIL: ' "$log" || true)
# A build error, a failed TestMain or the timeout fails the run without a FAIL line.
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi
echo "compat/go: $passed passed, $failed failed"
exit "$rc"
