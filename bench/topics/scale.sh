#!/usr/bin/env bash
# Topic and group creation at scale (bench/README.md, "Topics and groups"):
# a fresh mqnamesrv + mqbroker, TOPICS topics then N_GROUPS groups created one at a
# time through the admin protocol (bench_topics), then the broker restarted on
# the store holding them to time its start.
#   bench/topics/scale.sh [extra broker.conf lines ...]   e.g. compressedRegister=true
# Environment (defaults in brackets):
#   RMQ_BUILDDIR  build directory with mqnamesrv, mqbroker, bench/topics/bench_topics [./build]
#   TOPICS [100000]  N_GROUPS [20000]  STEP [10000]
#   BENCH_DIR     scratch directory, removed at the end unless given [mktemp under /tmp]
#   NS_PORT, BROKER_PORT  listen ports [29876, 20911]
set -euo pipefail
cd "$(dirname "$0")/../.."
# The servers log to stderr, kept in $WORK/*.log.
export RMQ_LOG_STDERR=1
BUILD=$(cd "${RMQ_BUILDDIR:-build}" && pwd)
TOOL=$BUILD/bench/topics/bench_topics
for bin in "$BUILD/mqnamesrv" "$BUILD/mqbroker" "$TOOL"; do
  [ -x "$bin" ] || { echo "scale.sh: $bin missing (make mqnamesrv mqbroker bench/topics/bench_topics)" >&2; exit 1; }
done
TOPICS=${TOPICS:-100000}
N_GROUPS=${N_GROUPS:-20000}   # not GROUPS: bash owns that name
STEP=${STEP:-10000}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/rmq-scale-XXXXXX)}
mkdir -p "$WORK"
NS_PORT=${NS_PORT:-29876}
BROKER_PORT=${BROKER_PORT:-20911}
NS=127.0.0.1:$NS_PORT
NS_PID= BROKER_PID=

stop_pid() {  # SIGTERM, then SIGKILL after 60 s (a clean stop writes the tables)
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 600); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() {
  stop_pid "$BROKER_PID"; stop_pid "$NS_PID"
  [ -n "${BENCH_DIR:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT

wait_port() {  # wait_port PORT: up to 60 s
  local deadline=$(( $(date +%s) + 60 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "port $1 not open after 60 s" >&2; exit 1; }
    sleep 0.01
  done
}

printf 'listenPort=%s\nlistenAddress=127.0.0.1\nkvConfigPath=%s/kvConfig.json\n' "$NS_PORT" "$WORK" > "$WORK/namesrv.properties"
"$BUILD/mqnamesrv" -c "$WORK/namesrv.properties" >> "$WORK/namesrv.log" 2>&1 &
NS_PID=$!
wait_port "$NS_PORT"

cat > "$WORK/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-scale
brokerId=0
brokerIP1=127.0.0.1
listenAddress=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$WORK/store
EOF
for line in "$@"; do echo "$line" >> "$WORK/broker.conf"; done
start_broker() {
  "$BUILD/mqbroker" -c "$WORK/broker.conf" -n "$NS" >> "$WORK/broker.log" 2>&1 &
  BROKER_PID=$!
}
start_broker
wait_port "$BROKER_PORT"

echo "== $TOPICS topics, then $N_GROUPS groups, one at a time (broker.conf extras: ${*:-none})"
timeout 7200 "$TOOL" create -n "$NS" -b "127.0.0.1:$BROKER_PORT" -t "$TOPICS" -g "$N_GROUPS" -s "$STEP" \
  --ns-pid "$NS_PID" --broker-pid "$BROKER_PID" || echo "bench_topics create failed (exit $?)"

echo "== clean stop, then start on the store with $TOPICS topics"
t=$(date +%s%N)
stop_pid "$BROKER_PID"
echo "broker stop (writes pending tables): $(( ($(date +%s%N) - t) / 1000000 )) ms"
ls -l "$WORK/store/config/" | awk 'NR > 1 { print "  " $5 "  " $9 }'
t=$(date +%s%N)
start_broker
"$TOOL" wait -b "127.0.0.1:$BROKER_PORT" -T 300 >/dev/null
echo "RESULT broker_start_ms=$(( ($(date +%s%N) - t) / 1000000 )) (exec to the first answered request)"
echo "broker CPU until then: $(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$BROKER_PID/stat") ms"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "broker RSS after start: $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$BROKER_PID/status") KiB"
