#!/usr/bin/env bash
# Runs every test: unit and end-to-end tests (make check), the same under
# AddressSanitizer + UndefinedBehaviorSanitizer, bounded fuzzing, and the compat suites.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
# Tests build in parallel but run one at a time: several of them start servers and
# check delivery times, which a second test hammering the disk would only blur.
run_checks() {
  (cd "$1" && make -j"$(nproc)" check TESTS= >/dev/null && make check) \
    || { tail -100 "$1/test-suite.log" 2>/dev/null; status=1; }
}
BUILD_DIR=build bash scripts/build.sh
run_checks build
BUILD_DIR=build-san bash scripts/build.sh --enable-sanitizers
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 run_checks build-san
# Every libFuzzer harness for a bounded time (ASan+UBSan); a finding fails the run. The
# seed is fixed so that a finding here replays the same way on a developer's machine.
FUZZ_SEED=${FUZZ_SEED:-1} bash scripts/fuzz.sh "${FUZZ_SECONDS:-10}" || status=1
for suite in compat/*/run.sh; do
  [ -f "$suite" ] || continue
  bash "$suite" || status=1
done
exit $status
