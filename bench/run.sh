#!/usr/bin/env bash
# Runs the figures of bench/README.md against a fresh mqnamesrv + mqbroker per section.
#   bench/run.sh [section ...]    sections: startup throughput consume latency rss recovery
#                                 (default: all, in that order)
# Every mqbench run is bounded by its -d/-N and by `timeout`; servers are stopped by PID.
# Environment (defaults in brackets):
#   RMQ_BUILDDIR   build directory with mqnamesrv, mqbroker, bench/mqbench [./build]
#   BENCH_DIR      scratch directory for stores, removed at the end [mktemp under /tmp]
#   DURATION       seconds per throughput/latency run [10]
#   THREADS        producer threads (= connections) for throughput runs [4]
#   RSS_MESSAGES   messages written before the second RSS reading [1000000]
#   RECOVERY_GIB   commit log written before kill -9 in the recovery section [1]
#   NS_PORT, BROKER_PORT  listen ports [29876, 20911]
set -euo pipefail
cd "$(dirname "$0")/.."
# Our servers keep logging to stderr, which this harness captures per server.
export RMQ_LOG_STDERR=1
BUILD=$(cd "${RMQ_BUILDDIR:-build}" && pwd)
MQBENCH=$BUILD/bench/mqbench
DURATION=${DURATION:-10}
THREADS=${THREADS:-4}
RSS_MESSAGES=${RSS_MESSAGES:-1000000}
RECOVERY_GIB=${RECOVERY_GIB:-1}
for bin in "$BUILD/mqnamesrv" "$BUILD/mqbroker" "$MQBENCH"; do
  [ -x "$bin" ] || { echo "bench/run.sh: $bin missing (make mqnamesrv mqbroker bench/mqbench)" >&2; exit 1; }
done
WORK=${BENCH_DIR:-$(mktemp -d /tmp/rmq-bench-XXXXXX)}
mkdir -p "$WORK"
NS_PORT=${NS_PORT:-29876}
BROKER_PORT=${BROKER_PORT:-20911}  # also uses BROKER_PORT-2 and +1
NS=127.0.0.1:$NS_PORT
NS_PID= BROKER_PID=

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 10 s
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$BROKER_PID"; stop_pid "$NS_PID"
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

now_ns() { date +%s%N; }
# Milliseconds from START_NS until PORT accepts a connection (gives up after 60 s).
ms_until_port() {
  local start=$1 port=$2 deadline=$(( $(date +%s) + 60 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "port $port not open after 60 s" >&2; return 1; }
    sleep 0.002
  done
  echo $(( ($(now_ns) - start) / 1000000 ))
}
rss_kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
rss_line() {  # rss_line LABEL: the broker's resident memory, total and anonymous (heap)
  echo "$1: broker VmRSS $(rss_kib "$BROKER_PID" VmRSS) KiB (anon $(rss_kib "$BROKER_PID" RssAnon) KiB, file $(rss_kib "$BROKER_PID" RssFile) KiB)"
}

start_namesrv() {
  printf 'listenPort=%s\nlistenAddress=127.0.0.1\nkvConfigPath=%s/kvConfig.json\n' "$NS_PORT" "$WORK" > "$WORK/namesrv.properties"
  local t=$(now_ns)
  "$BUILD/mqnamesrv" -c "$WORK/namesrv.properties" >> "$WORK/namesrv.log" 2>&1 &
  NS_PID=$!
  NS_START_MS=$(ms_until_port "$t" "$NS_PORT")
}
# start_broker FLUSH_TYPE [keep]: a broker with a new store, or the old one with "keep".
start_broker() {
  [ "${2:-}" = keep ] || rm -rf "$WORK/store"
  cat > "$WORK/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-bench
brokerId=0
brokerIP1=127.0.0.1
listenAddress=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$WORK/store
flushDiskType=$1
EOF
  local t=$(now_ns)
  "$BUILD/mqbroker" -c "$WORK/broker.conf" -n "$NS" >> "$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
  BROKER_START_MS=$(ms_until_port "$t" "$BROKER_PORT")
}
stop_broker() { stop_pid "$BROKER_PID"; BROKER_PID=; }
# mqbench ARGS...: bounded by its own -d, and by timeout in case it hangs. The load
# average after each run says how much the machine was shared meanwhile.
mqbench() {
  timeout --signal=INT --kill-after=10 600 "$MQBENCH" -n "$NS" --quiet "$@"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
}

section_startup() {
  echo "== startup: time from exec to the first accepted connection (empty store)"
  stop_broker
  start_broker ASYNC_FLUSH
  echo "mqnamesrv: ${NS_START_MS} ms, mqbroker: ${BROKER_START_MS} ms"
}

section_throughput() {
  local flush size
  for flush in ASYNC_FLUSH SYNC_FLUSH; do
    for size in 128 1024 16384; do
      echo "== send $flush size=$size: $THREADS threads, sync, ${DURATION} s"
      stop_broker; start_broker "$flush"
      mqbench -t Bench$size --create-topic 4 -c "$THREADS" -s "$size" -d "$DURATION" | grep -E '^(RESULT|send errors|load)'
    done
  done
}

section_consume() {
  echo "== consume: 1000000 messages of 128 B written with batches, then pulled by a new group"
  stop_broker; start_broker ASYNC_FLUSH
  mqbench -t BenchConsume --create-topic 4 -c 2 -B 32 -s 128 -N 1000000 -d 120 | grep -E '^(RESULT|send errors|load)'
  mqbench -t BenchConsume -m consume -g bench_consume_$$ -N 1000000 -d 120 | grep -E '^(RESULT|consume errors|load)'
}

section_latency() {
  echo "== send-to-receive latency: 1 producer at 200 msg/s, consumers idle in long polling, ${DURATION} s"
  stop_broker; start_broker ASYNC_FLUSH
  mqbench -t BenchLatency --create-topic 4 -m mixed -c 1 -r 200 -s 128 -d "$DURATION" | grep -E '^(RESULT|send errors|consume errors|load)'
  echo "== send-to-receive latency under load: 4 producers at 20000 msg/s in total, 4 consumers, ${DURATION} s"
  stop_broker; start_broker ASYNC_FLUSH
  mqbench -t BenchLatency --create-topic 4 -m mixed -c 4 -r 20000 -s 128 -d "$DURATION" | grep -E '^(RESULT|send errors|consume errors|load)'
}

section_rss() {
  echo "== broker RSS: idle, then after $RSS_MESSAGES messages of 128 B (batches of 32)"
  stop_broker; start_broker ASYNC_FLUSH
  sleep 1
  rss_line "idle"
  mqbench -t BenchRss --create-topic 4 -c 2 -B 32 -s 128 -N "$RSS_MESSAGES" -d 580 | grep -E '^(RESULT|send errors|load)'
  rss_line "after $RSS_MESSAGES messages"
}

section_recovery() {
  echo "== recovery: ${RECOVERY_GIB} GiB of commit log (16 KiB messages), kill -9, restart"
  stop_broker; start_broker ASYNC_FLUSH
  local n=$(( RECOVERY_GIB * 1024 * 1024 / 16 ))
  mqbench -t BenchRecovery --create-topic 4 -c 2 -B 16 -s 16384 -N "$n" -d 580 | grep -E '^(RESULT|send errors|load)'
  echo "commit log on disk: $(du -sh "$WORK/store/commitlog" | cut -f1)"
  kill -9 "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null || true; BROKER_PID=
  start_broker ASYNC_FLUSH keep
  echo "restart after kill -9 to first accepted connection: ${BROKER_START_MS} ms"
  # Recovered means readable: the last messages written must still be there.
  mqbench -t BenchRecovery -m consume -g bench_recovery_$$ -N "$n" -d 120 | grep -E '^(RESULT|consume errors|load)'
}

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB RAM", $2/1048576}' /proc/meminfo), $(uname -sr)"
start_namesrv
sections=("$@")
[ ${#sections[@]} -gt 0 ] || sections=(startup throughput consume latency rss recovery)
for s in "${sections[@]}"; do
  declare -F "section_$s" >/dev/null || { echo "bench/run.sh: unknown section $s" >&2; exit 2; }
  "section_$s"
done
