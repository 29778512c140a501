#!/usr/bin/env bash
# Runs every test: unit and end-to-end tests (make check), the same under
# AddressSanitizer + UndefinedBehaviorSanitizer, and the compat suites.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
BUILD_DIR=build bash scripts/build.sh
(cd build && make -j"$(nproc)" check) || { cat build/test-suite.log 2>/dev/null | tail -100; status=1; }
BUILD_DIR=build-san bash scripts/build.sh --enable-sanitizers
(cd build-san && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 make -j"$(nproc)" check) \
  || { cat build-san/test-suite.log 2>/dev/null | tail -100; status=1; }
for suite in compat/*/run.sh; do
  [ -f "$suite" ] || continue
  bash "$suite" || status=1
done
exit $status
