#!/usr/bin/env bash
# The kill -9 loop by hand: scripts/crashloop.sh KILLS [SYNC_FLUSH|ASYNC_FLUSH ...]
# (both flush types when none is named), against the broker built in $BUILD_DIR
# (default build/). Prints one line per kill and a summary per flush type.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: scripts/crashloop.sh KILLS [SYNC_FLUSH|ASYNC_FLUSH ...]" >&2; exit 2; }
kills=$1; shift
[ $# -ge 1 ] || set -- SYNC_FLUSH ASYNC_FLUSH
build="${BUILD_DIR:-build}"
make -C "$build" -s mqbroker tests/fault/crashloop >/dev/null
export RMQ_BUILDDIR="$PWD/$build"
for flush in "$@"; do
  "$build/tests/fault/crashloop" "$kills" "$flush"
done
