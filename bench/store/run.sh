#!/bin/sh
# Store append benchmark: ./bench/store/run.sh [dir] [messages] [sync_threads]
# Run from a build directory after `make bench/store/bench_store`.
set -e
exec "${RMQ_BUILDDIR:-.}/bench/store/bench_store" "$@"
