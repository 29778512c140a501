#!/usr/bin/env bash
# Coverage-guided fuzzing (tests/fuzz/README.md): builds every tests/fuzz/fuzz_*.c
# harness with clang's libFuzzer under AddressSanitizer + UndefinedBehaviorSanitizer
# and runs each, one after the other, for SECONDS (default 60). Fails on any
# finding (crash, sanitizer report, broken invariant, leak, timeout, out of memory);
# the input that caused it is left in <build dir>/fuzz-findings/<harness>/.
#
#   bash scripts/fuzz.sh [SECONDS] [HARNESS...]     build dir: $FUZZ_BUILD_DIR or build-libfuzzer
#   FUZZ_RUNS=10000000 bash scripts/fuzz.sh 0 acl  a run of ten million executions (0 s: no time limit)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
shift $(($# > 0 ? 1 : 0))
dir=${FUZZ_BUILD_DIR:-build-libfuzzer}
src=$(pwd)

# clang and its runtime (libFuzzer comes with libclang-rt, a recommended package).
if ! command -v clang >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "fuzz: installing clang"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi

san="-fsanitize=address,undefined -fno-sanitize-recover=undefined"
cflags="-g -O1 -fno-omit-frame-pointer $san -fsanitize=fuzzer-no-link"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p "$dir"
if [ ! -f "$dir/Makefile" ]; then
  (cd "$dir" && "$src/configure" -q CC=clang CFLAGS="$cflags" LDFLAGS="$san")
fi
# The module libraries and the flags every program uses, as the Makefile has them
# (brought up to date first, so that its regeneration does not talk into the answers).
make -s -C "$dir" Makefile >/dev/null
query() { make -s -C "$dir" -f Makefile -f - fuzz-query <<<"fuzz-query: ; @echo $1"; }
libs=$(query '$(MOD_LIBS)')
# shellcheck disable=SC2086
make -s -C "$dir" -j"$(nproc)" $libs >"$dir/fuzz-build.log" 2>&1 || { tail -30 "$dir/fuzz-build.log"; exit 1; }
cppflags="-D_GNU_SOURCE $(query '$(AM_CPPFLAGS)')"
syslibs=$(query '$(SYS_LIBS)')

if [ $# -gt 0 ]; then names=("$@"); else
  names=()
  for f in tests/fuzz/fuzz_*.c; do n=${f#tests/fuzz/fuzz_}; names+=("${n%.c}"); done
fi
# fuzz_broker runs broker_run() in-process: it takes mqbroker's sources but its main.
declare -A extra=([broker]="")
for f in $(query '$(mqbroker_SOURCES)'); do
  case $f in *.h|*/mqbroker_main.c) ;; *) extra[broker]+=" $src/$f" ;; esac
done
mkdir -p "$dir/tests/fuzz"
for n in "${names[@]}"; do
  # shellcheck disable=SC2086
  (cd "$dir" && clang $cflags -fsanitize=fuzzer $cppflags -I"$src/tests/fuzz" -std=gnu11 \
     -o "tests/fuzz/fuzz_$n" "$src/tests/fuzz/fuzz_$n.c" ${extra[$n]:-} $libs $syslibs)
done

passed=0 failed=0 tmp=""
trap 'rm -rf "$tmp"' EXIT
for n in "${names[@]}"; do
  work="$dir/fuzz-corpus/$n" findings="$dir/fuzz-findings/$n"
  rm -rf "$findings" && mkdir -p "$work" "$findings"
  log="$dir/fuzz-$n.log"
  # FUZZ_SEED fixes libFuzzer's random seed (CI sets one so a finding replays the same way);
  # 0, the default, lets libFuzzer pick one.
  args=(-max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -seed="${FUZZ_SEED:-0}" -artifact_prefix="$findings/")
  [ -f "tests/fuzz/dict/$n.dict" ] && args+=(-dict="tests/fuzz/dict/$n.dict")
  # FUZZ_RUNS: stop after that many executions instead of after SECONDS (the long runs).
  [ -n "${FUZZ_RUNS:-}" ] && args+=(-runs="$FUZZ_RUNS")
  # The broker keeps state between inputs on its own thread, so nearly every input
  # ends with more mallocs than frees, and libFuzzer's per-input leak check then ran
  # it again and scanned the whole heap: 7 times slower. Leaks are still found when the
  # run ends (ASAN_OPTIONS=detect_leaks=1 checks at exit, and fails the run).
  [ "$n" = broker ] && args+=(-detect_leaks=0)
  # New inputs go to the first directory (in the build tree); the seeds are only read.
  # Stateful harnesses keep their stores here, on tmpfs where there is one with room
  # for the broker's store (2 GiB; a container's /dev/shm is often 64 MiB): a store or
  # auth.json made, fsync'd and removed per input costs no disk there (ha ran 14
  # inputs/s on ext4, 300 on tmpfs). A run cut short leaves them to this rm.
  rm -rf "$tmp"
  shm_kb=$(df -Pk /dev/shm 2>/dev/null | awk 'NR == 2 { print $4 }' || true)
  if [ -w /dev/shm ] && [ "${shm_kb:-0}" -ge 2097152 ]; then tmp=$(mktemp -d /dev/shm/rmq-fuzz.XXXXXX)
  else tmp="$dir/fuzz-tmp" && mkdir -p "$tmp"; fi
  rc=0 start=$SECONDS
  TMPDIR="$tmp" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$dir/tests/fuzz/fuzz_$n" "${args[@]}" "$work" "tests/fuzz/corpus/$n" >"$log" 2>&1 || rc=$?
  rm -rf "$tmp"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  found=$(find "$findings" -type f | wc -l)
  if [ "$rc" -eq 0 ] && [ "$found" -eq 0 ]; then
    passed=$((passed + 1)); verdict=ok
  else
    failed=$((failed + 1)); verdict=FAILED
    # The report: the first error line and the stack under it.
    sed -n '/ERROR: \|runtime error\|invariant broken\|^fuzz_[a-z]*: /,+20p' "$log" | head -30
  fi
  wall=$((SECONDS - start))
  echo "fuzz $n: ${execs:-0} execs in ${wall} s ($(( ${execs:-0} / (wall > 0 ? wall : 1) ))/s), cov ${cov:-?} ft ${ft:-?}, findings $found ($verdict; log $log)"
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
