#!/usr/bin/env bash
# compat/grpc-python: the RocketMQ 5.x gRPC Python SDK (rocketmq-python-client from PyPI, pinned
# with its dependencies in requirements.txt, installed into a venv under target/) against a
# name server + broker serving gRPC, started here on free ports (compat/grpc-common/servers.sh):
# ours from $RMQ_BUILDDIR (default ../../build), or with TARGET=apache Apache RocketMQ 5.3.3's
# name server and proxy in local mode. Extra arguments name tests (e.g.
# GrpcSdkTest.test_delay_message_arrives_on_time). Where python3 -m venv or the packages cannot
# be had the suite FAILS with CI=true and elsewhere prints one line and skips.
# Ends with "compat/grpc-python: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")"
TARGET=${TARGET:-ours}
unavailable() {
  if [ "${CI:-}" = true ]; then
    echo "compat/grpc-python: FAILED: $*"; echo "compat/grpc-python: 0 passed, 1 failed"; exit 1
  fi
  echo "compat/grpc-python: skipped: $*"; exit 0
}
command -v python3 >/dev/null 2>&1 || unavailable "python3 is not installed"
venv=target/venv
# The venv is remade when requirements.txt changes.
if ! cmp -s requirements.txt "$venv/requirements.txt"; then
  rm -rf "$venv"
  out=$(python3 -m venv "$venv" 2>&1) || unavailable "python3 -m venv failed: $(printf '%s\n' "$out" | tail -1 | cut -c1-200)"
  if ! out=$(timeout 600 "$venv/bin/pip" install -q --disable-pip-version-check -r requirements.txt 2>&1); then
    unavailable "pip install -r requirements.txt failed: $(printf '%s\n' "$out" | grep -m1 -i error | cut -c1-200)"
  fi
  cp requirements.txt "$venv/requirements.txt"
fi
# shellcheck source=../grpc-common/servers.sh
source ../grpc-common/servers.sh
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
if [ "$TARGET" = apache ]; then
  reason=$(grpc_apache_classpath) || unavailable "Apache RocketMQ 5.3.3 does not resolve: $reason"
  grpc_apache_classpath >/dev/null
elif [ ! -x "$RMQ_BUILDDIR/mqnamesrv" ] || [ ! -x "$RMQ_BUILDDIR/mqbroker" ]; then
  echo "compat/grpc-python: FAILED: no mqnamesrv/mqbroker in $RMQ_BUILDDIR (build first)"; exit 1
fi
trap grpc_servers_stop EXIT
echo "compat/grpc-python: $("$venv/bin/pip" show rocketmq-python-client 2>/dev/null | grep -m1 '^Version' | tr -d ' '), starting $TARGET servers"
grpc_servers_start "$PWD/target/servers" || { echo "compat/grpc-python: 0 passed, 1 failed"; exit 1; }
echo "compat/grpc-python: gRPC at $GRPC_ENDPOINT"
# The SDK logs under ~/logs/rocketmq_python: HOME points into target/.
mkdir -p target/home
HOME=$PWD/target/home timeout 600 "$venv/bin/python" test_grpc_sdk.py "$@" 2>&1
rc=$?
# The test prints its own counts; a crash or the timeout leaves none.
[ "$rc" -gt 1 ] && echo "compat/grpc-python: 0 passed, 1 failed (exit $rc)"
exit "$rc"
