#!/usr/bin/env bash
# Broker instructions per message on the three hot paths, counted by callgrind (repeatable on
# a loaded machine, unlike wall-clock figures). See bench/README.md, "Instructions per message".
#   bench/callgrind.sh [send] [sync] [pull]      (default: all three)
# Each path: a fresh mqbroker (no name server) runs under valgrind --tool=callgrind; a warm-up
# load, `callgrind_control -z` (counters to zero), the measured load, `callgrind_control -d`
# (dump); then total instructions (Ir, all threads) of the dump / messages of the measured load.
# Environment (defaults in brackets):
#   RMQ_BUILDDIR  build directory with mqbroker and bench/mqbench [./build]
#   BENCH_DIR     scratch directory (store, callgrind files), kept if set [mktemp under /tmp]
#   N             messages measured per send path [5000]; the pull path reads 4*N
#   BROKER_PORT   listen port [21911] (also uses BROKER_PORT-2 and +1)
set -euo pipefail
cd "$(dirname "$0")/.."
export RMQ_LOG_STDERR=1
BUILD=$(cd "${RMQ_BUILDDIR:-build}" && pwd)
MQBENCH=$BUILD/bench/mqbench
N=${N:-5000}
PORT=${BROKER_PORT:-21911}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/rmq-cg-XXXXXX)}
mkdir -p "$WORK"
for bin in "$BUILD/mqbroker" "$MQBENCH"; do
  [ -x "$bin" ] || { echo "bench/callgrind.sh: $bin missing" >&2; exit 1; }
done
command -v callgrind_control >/dev/null || { echo "bench/callgrind.sh: valgrind missing" >&2; exit 1; }
PID=
stop_broker() {
  [ -n "$PID" ] || return 0
  kill "$PID" 2>/dev/null || true
  local i
  for i in $(seq 300); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$PID" 2>/dev/null || true
  PID=
}
cleanup() { stop_broker; [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"; }
trap cleanup EXIT

# TLS off: the measured path is plain remoting, and the test-mode certificates made at start
# (one per listener) take longer than mqbench's timeout under valgrind.
start_broker() {  # start_broker FLUSH_TYPE NAME
  rm -rf "$WORK/store"
  cat > "$WORK/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-cg
brokerId=0
brokerIP1=127.0.0.1
listenAddress=127.0.0.1
listenPort=$PORT
storePathRootDir=$WORK/store
flushDiskType=$1
tls.server.mode=disabled
EOF
  valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.$2.out" \
    "$BUILD/mqbroker" -c "$WORK/broker.conf" > "$WORK/broker.$2.log" 2>&1 &
  PID=$!
  local deadline=$(( $(date +%s) + 120 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "broker not listening after 120 s" >&2; exit 1; }
    sleep 0.2
  done
}
bench() { timeout --signal=INT --kill-after=10 1800 "$MQBENCH" -b "127.0.0.1:$PORT" -q 4 --quiet -T 30000 "$@"; }
# run_measured NAME KEY MQBENCH-ARGS...: zero the counters, run the load, dump them, print the
# instructions per message (divided by the sent= / received= count mqbench reports).
run_measured() {
  local name=$1 key=$2 out msgs
  shift 2
  callgrind_control -z "$PID" > /dev/null
  out=$(bench "$@" | grep -E '^RESULT')
  msgs=$(echo "$out" | tr ' ' '\n' | awk -F= -v k="$key" '$1 == k { print $2 }')
  measure "$name" "$msgs"
}
measure() {
  callgrind_control -d "$PID" > /dev/null
  sleep 1
  local f ir
  f=$(ls -t "$WORK"/cg."$1".out.* | head -1)
  ir=$(awk '/^summary:/ { print $2 }' "$f")
  printf '%-10s %12s Ir / %7d msgs = %8.0f Ir/msg  (%s)\n' "$1" "$ir" "$2" "$(echo "$ir / $2" | bc -l)" "$f"
}

path_send() {  # ASYNC_FLUSH, one connection, sync sends of 1 KiB
  start_broker ASYNC_FLUSH send
  bench -t CgSend --create-topic 4 -c 1 -s 1024 -N 1000 -d 600 > /dev/null
  run_measured send sent -t CgSend -c 1 -s 1024 -N "$N" -d 1200
  stop_broker
}
path_sync() {  # SYNC_FLUSH, one connection, sync sends of 1 KiB (one group commit each)
  start_broker SYNC_FLUSH sync
  bench -t CgSync --create-topic 4 -c 1 -s 1024 -N 500 -d 600 > /dev/null
  run_measured sync sent -t CgSync -c 1 -s 1024 -N "$N" -d 1200
  stop_broker
}
path_pull() {  # a backlog of 128 B messages, pulled 32 per request by a new group
  local total=$(( 4 * N + 4000 ))
  start_broker ASYNC_FLUSH pull
  bench -t CgPull --create-topic 4 -c 1 -B 32 -s 128 -N "$total" -d 1200 > /dev/null
  bench -t CgPull -m consume -g cg_warm -N 4000 -d 600 > /dev/null
  run_measured pull received -t CgPull -m consume -g cg_pull -N "$(( 4 * N ))" -d 1200
  stop_broker
}

for p in "${@:-send sync pull}"; do
  for q in $p; do "path_$q"; done
done
