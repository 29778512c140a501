#!/usr/bin/env bash
# compat/java: the official Java client (Maven coordinates, 4.9.8; RMQ_JAVA_PROFILE=rocketmq5
# for 5.x) against our servers. Offline only: runs where ~/.m2 already holds the artifacts.
set -euo pipefail
cd "$(dirname "$0")"
skip() { echo "compat/java: skipped: $*"; exit 0; }
command -v mvn >/dev/null 2>&1 || skip "mvn is not installed"
command -v java >/dev/null 2>&1 || skip "java is not installed"
profile=()
[ -n "${RMQ_JAVA_PROFILE:-}" ] && profile=(-P "$RMQ_JAVA_PROFILE")
# dependency:resolve needs its own plugin too; either missing means nothing can run offline.
if ! out=$(mvn -o -q -B "${profile[@]}" dependency:resolve 2>&1); then
  reason=$(printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 '^\[ERROR\] .' | sed 's/^\[ERROR\] //' | cut -c1-200)
  skip "Maven artifacts not in ~/.m2 and no network (mvn -o dependency:resolve: ${reason:-failed})"
fi
export RMQ_BUILDDIR=${RMQ_BUILDDIR:-$(cd ../.. && pwd)/build}
echo "compat/java: running with RMQ_BUILDDIR=$RMQ_BUILDDIR ${RMQ_JAVA_PROFILE:+profile $RMQ_JAVA_PROFILE}"
mvn -o -B "${profile[@]}" test
