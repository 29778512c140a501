#!/usr/bin/env bash
# Apache RocketMQ's broker and ours, one after the other, under the same mqbench rows:
# msg/s, request latency percentiles and the broker's CPU per message (utime+stime of
# its process from /proc, so Apache's figure includes its JIT and GC threads), then
# ours/Apache. See bench/README.md ("Side by side with Apache").
#   bench/apache.sh
# Apache's servers are 4.9.7, the newest whose server jars Maven Central serves (there
# are no 4.9.8 rocketmq-broker/-namesrv jars); resolved with mvn from
# compat/apache/servers/pom.xml, as compat/apache does. Needs java 17+ and mvn.
# Environment (defaults in brackets):
#   RMQ_BUILDDIR   build directory with mqbroker and bench/mqbench [./build]
#   DURATION       seconds per row [15]
#   SIZE           message body bytes [1024]
#   QUEUES         queues of the bench topic [8]
#   BROKER_PORT    listen port of either broker [20911]
#   APACHE_HEAP    Apache's -Xms/-Xmx [1g]
# Every run is bounded (mqbench -d, timeout); brokers are stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
export RMQ_LOG_STDERR=1
BUILD=$(cd "${RMQ_BUILDDIR:-build}" && pwd)
MQBENCH=$BUILD/bench/mqbench
DURATION=${DURATION:-15}
SIZE=${SIZE:-1024}
QUEUES=${QUEUES:-8}
PORT=${BROKER_PORT:-20911}
HEAP=${APACHE_HEAP:-1g}
for bin in "$BUILD/mqbroker" "$MQBENCH"; do
  [ -x "$bin" ] || { echo "bench/apache.sh: $bin missing (make mqbroker bench/mqbench)" >&2; exit 1; }
done
command -v java >/dev/null && command -v mvn >/dev/null || { echo "bench/apache.sh: needs java and mvn" >&2; exit 1; }
WORK=$(mktemp -d /tmp/rmq-apache-bench-XXXXXX)
PID=
stop_pid() {  # SIGTERM, then SIGKILL after 30 s
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() { stop_pid "$PID"; rm -rf "$WORK"; }
trap cleanup EXIT

CP_FILE=$WORK/servers.classpath
timeout 600 mvn -B -q -f compat/apache/servers/pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" >"$WORK/mvn.log" 2>&1 ||
  { echo "bench/apache.sh: Apache's server jars do not resolve:" >&2; tail -5 "$WORK/mvn.log" >&2; exit 1; }

wait_port() {
  local deadline=$(( $(date +%s) + 120 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; do
    kill -0 "$PID" 2>/dev/null || { echo "broker exited; its log:" >&2; tail -20 "$WORK/$1.log" >&2; return 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "port $PORT not open after 120 s" >&2; return 1; }
    sleep 0.2
  done
}

# start IMPL FLUSH: a broker with a new store, no name server (mqbench talks to it directly).
start() {
  local impl=$1 flush=$2 home=$WORK/$1-home
  rm -rf "$home"; mkdir -p "$home/conf"
  cat > "$home/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=bench-$impl
brokerId=0
brokerIP1=127.0.0.1
listenPort=$PORT
storePathRootDir=$home/store
storePathCommitLog=$home/store/commitlog
flushDiskType=$flush
autoCreateTopicEnable=true
EOF
  if [ "$impl" = apache ]; then
    printf '<configuration><appender name="F" class="ch.qos.logback.core.FileAppender"><file>%s</file><encoder><pattern>%%d %%-5level %%logger{0} - %%msg%%n</pattern></encoder></appender><root level="INFO"><appender-ref ref="F"/></root></configuration>\n' \
      "$home/broker-internal.log" > "$home/conf/logback_broker.xml"
    ROCKETMQ_HOME=$home HOME=$home java -Xms"$HEAP" -Xmx"$HEAP" -XX:MaxDirectMemorySize=512m \
      --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
      -Dtls.server.mode=disabled -Duser.home="$home" -Drocketmq.home.dir="$home" \
      -cp "$(cat "$CP_FILE")" org.apache.rocketmq.broker.BrokerStartup -c "$home/broker.conf" \
      > "$WORK/$impl.log" 2>&1 &
  else
    "$BUILD/mqbroker" -c "$home/broker.conf" > "$WORK/$impl.log" 2>&1 &
  fi
  PID=$!
  wait_port "$impl"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$PID/stat"; }
field() { grep -o " $1=[^ ]*" <<<"$2" | cut -d= -f2; }

# row IMPL LABEL ARGS...: one mqbench run; prints a line and keeps "tps cpu" in $LAST.
row() {
  local impl=$1 label=$2; shift 2
  local c0 c1 out res tps n
  c0=$(cpu_ticks)
  out=$(timeout --signal=INT --kill-after=10 $((DURATION + 120)) "$MQBENCH" -b "127.0.0.1:$PORT" -q "$QUEUES" \
        -s "$SIZE" -d "$DURATION" --quiet "$@" 2>&1) || true
  c1=$(cpu_ticks)
  res=$(grep '^RESULT' <<<"$out" || echo "RESULT none")
  tps=$(field send_tps "$res"); n=$(field sent "$res")
  [ -n "$n" ] && [ "$n" -gt 0 ] || { echo "$impl $label: no result: $(tail -2 <<<"$out")"; LAST="0 0"; return; }
  # /proc ticks are 1/100 s: CPU µs per message = ticks * 10,000 / messages.
  local cpu_us=$(( (c1 - c0) * 10000 / n ))
  printf '%-7s %-38s %8s msg/s  p50 %6s us  p99 %7s us  p999 %7s us  errors %s  broker CPU %4s us/msg  load %s\n' \
    "$impl" "$label" "$tps" "$(field send_p50_us "$res")" "$(field send_p99_us "$res")" \
    "$(field send_p999_us "$res")" "$(field send_errors "$res")" "$cpu_us" "$(cut -d' ' -f1-3 /proc/loadavg)"
  LAST="$tps $cpu_us"
}

declare -A TPS CPU
# The rows: flush type, label, mqbench arguments (the topic is created by the first row of a broker).
ROWS=(
  "ASYNC_FLUSH|sync sends, 8 connections|-c 8"
  "ASYNC_FLUSH|pipelined, 8 connections x 8|-c 8 -w 8"
  "SYNC_FLUSH|SYNC_FLUSH sync sends, 32 connections|-c 32"
)
echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ${SIZE} B bodies, $QUEUES queues, ${DURATION} s per row"
for impl in apache ours; do
  flush_now=
  for r in "${ROWS[@]}"; do
    IFS='|' read -r flush label args <<<"$r"
    if [ "$flush" != "$flush_now" ]; then
      stop_pid "$PID"; PID=
      start "$impl" "$flush"
      flush_now=$flush
      # Creates the topic and warms up (Apache's JIT) outside the measured row.
      timeout 120 "$MQBENCH" -b "127.0.0.1:$PORT" -q "$QUEUES" -t BenchApache --create-topic "$QUEUES" \
        -c 4 -s "$SIZE" -N 20000 -d 60 --quiet > /dev/null 2>&1 || true
    fi
    # shellcheck disable=SC2086
    row "$impl" "$label" -t BenchApache $args
    read -r TPS["$impl|$label"] CPU["$impl|$label"] <<<"$LAST"
  done
  stop_pid "$PID"; PID=
done
echo "== ours / Apache"
for r in "${ROWS[@]}"; do
  IFS='|' read -r flush label args <<<"$r"
  a=${TPS["apache|$label"]}; o=${TPS["ours|$label"]}; ac=${CPU["apache|$label"]}; oc=${CPU["ours|$label"]}
  awk -v l="$label" -v a="$a" -v o="$o" -v ac="$ac" -v oc="$oc" 'BEGIN {
    printf "%-38s msg/s x%s   CPU per message x%s\n", l,
      (a > 0 ? sprintf("%.2f", o / a) : "-"), (ac > 0 ? sprintf("%.2f", oc / ac) : "-") }'
done
