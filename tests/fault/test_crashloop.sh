#!/usr/bin/env bash
# The kill -9 loop, bounded for CI: CRASHLOOP_KILLS (default 10) kills under
# SYNC_FLUSH, then as many under ASYNC_FLUSH; each must lose nothing acknowledged.
set -eu
bin="${RMQ_BUILDDIR:-.}/tests/fault/crashloop"
kills="${CRASHLOOP_KILLS:-10}"
"$bin" "$kills" SYNC_FLUSH
"$bin" "$kills" ASYNC_FLUSH
