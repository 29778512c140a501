#!/usr/bin/env bash
# Configures and builds in ./build (pass extra configure flags as arguments).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x configure ] || autoreconf -fi >/dev/null
dir=${BUILD_DIR:-build}
mkdir -p "$dir"
cd "$dir"
[ -f Makefile ] || ../configure -q "$@"
make -j"$(nproc)" >/dev/null
echo "built in $dir/"
