#!/usr/bin/env bash
# compat/go: apache/rocketmq-client-go v2 against our mqnamesrv + mqbroker. Runs where Go
# and the module resolve (GOPROXY or a filled module cache); otherwise says why it skipped.
set -euo pipefail
cd "$(dirname "$0")"
skip() { echo "compat/go: skipped: $*"; exit 0; }
command -v go >/dev/null 2>&1 || skip "go is not installed"
# No go.sum is checked in (it cannot be computed offline): tidy writes it where the module resolves.
if ! out=$(timeout 180 go mod tidy 2>&1); then
  skip "module github.com/apache/rocketmq-client-go/v2 v2.1.2 does not resolve ($(printf '%s\n' "$out" | grep -m1 . | cut -c1-160))"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
echo "compat/go: running with RMQ_BUILDDIR=$RMQ_BUILDDIR"
go test -count=1 -timeout 5m ./...
