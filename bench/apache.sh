#!/usr/bin/env bash
# Apache RocketMQ's broker and ours, one after the other, under the same mqbench rows
# and under Apache's own benchmark Producer + Consumer (rocketmq-example): msg/s,
# latency and the broker's CPU per message (utime+stime of its process from /proc, so
# Apache's figure includes its JIT and GC threads), then ours/Apache. See
# bench/README.md ("Side by side with Apache").
#   bench/apache.sh
# Apache's servers are 4.9.7, the newest whose server jars Maven Central serves (there
# are no 4.9.8 rocketmq-broker/-namesrv jars); resolved with mvn from
# compat/apache/servers/pom.xml, as compat/apache does. The benchmark classes come
# from bench/apache-benchmark.pom.xml (rocketmq-example 4.7.0 on the 4.9.7 client).
# Both brokers register with one name server of ours (the Java clients need routes).
# Needs java 17+ and mvn.
# Environment (defaults in brackets):
#   RMQ_BUILDDIR   build directory with mqnamesrv, mqbroker and bench/mqbench [./build]
#   DURATION       seconds per mqbench row [15]
#   JAVA_THREADS   the benchmark Producer's -w (send threads of one client) [16]
#   SIZE           message body bytes [1024]
#   QUEUES         queues of the bench topic [8]
#   BROKER_PORT    listen port of either broker [20911]
#   NS_PORT        listen port of the name server [20876]
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
NS_PORT=${NS_PORT:-20876}
HEAP=${APACHE_HEAP:-1g}
JAVA_THREADS=${JAVA_THREADS:-16}
for bin in "$BUILD/mqnamesrv" "$BUILD/mqbroker" "$MQBENCH"; do
  [ -x "$bin" ] || { echo "bench/apache.sh: $bin missing (make mqnamesrv mqbroker bench/mqbench)" >&2; exit 1; }
done
command -v java >/dev/null && command -v mvn >/dev/null || { echo "bench/apache.sh: needs java and mvn" >&2; exit 1; }
WORK=$(mktemp -d /tmp/rmq-apache-bench-XXXXXX)
PID= NS_PID= JCONS= JPROD=
stop_pid() {  # SIGTERM, then SIGKILL after 30 s
  local pid=$1 i
  [ -n "$pid" ] || return 0
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
}
cleanup() { stop_pid "$JPROD"; stop_pid "$JCONS"; stop_pid "$PID"; stop_pid "$NS_PID"; rm -rf "$WORK"; }
trap cleanup EXIT

CP_FILE=$WORK/servers.classpath
timeout 600 mvn -B -q -f compat/apache/servers/pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$CP_FILE" >"$WORK/mvn.log" 2>&1 ||
  { echo "bench/apache.sh: Apache's server jars do not resolve:" >&2; tail -5 "$WORK/mvn.log" >&2; exit 1; }
BENCH_CP_FILE=$WORK/benchmark.classpath
timeout 600 mvn -B -q -f bench/apache-benchmark.pom.xml dependency:build-classpath \
  -Dmdep.outputFile="$BENCH_CP_FILE" >"$WORK/mvn-benchmark.log" 2>&1 ||
  { echo "bench/apache.sh: rocketmq-example does not resolve:" >&2; tail -5 "$WORK/mvn-benchmark.log" >&2; exit 1; }

printf 'listenPort=%s\nlistenAddress=127.0.0.1\nkvConfigPath=%s/kvConfig.json\n' "$NS_PORT" "$WORK" > "$WORK/namesrv.properties"
"$BUILD/mqnamesrv" -c "$WORK/namesrv.properties" > "$WORK/namesrv.log" 2>&1 &
NS_PID=$!

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
namesrvAddr=127.0.0.1:$NS_PORT
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

# java_row IMPL LABEL: Apache's benchmark Consumer, then its Producer (-w JAVA_THREADS, SIZE
# bytes) through the name server, on a topic of their own created first with one message
# (a new group starts at offset 0 while the queue's first message is in memory, on both
# brokers, so on the mqbench topic it would first read that backlog).
# Each prints one line per 10 s: TPS and average RT of those 10 s, max RT since it started
# (the 4.7.0 tool has no percentiles). The Producer's first 10 s are warm-up; the broker's
# CPU is sampled when its 1st and 3rd lines appear and divided by the messages of its 2nd
# and 3rd (each sent message is also consumed once). The Consumer's figures are its lines
# printed in the same 20 s.
lines() { grep -c "$2" "$1" || true; }
wait_lines() {  # FILE PATTERN N SECONDS
  local i
  for i in $(seq $(($4 * 10))); do [ "$(lines "$1" "$2")" -ge "$3" ] && return 0; sleep 0.1; done
  return 1
}
java_row() {
  local impl=$1 label=$2 c0=0 c1=0 k0 k1
  local java=(java -Xms512m -Xmx512m -Duser.home="$WORK/client" -cp "$(cat "$BENCH_CP_FILE")")
  local pout=$WORK/$impl-producer.out cout=$WORK/$impl-consumer.out
  mkdir -p "$WORK/client"
  timeout 60 "$MQBENCH" -b "127.0.0.1:$PORT" -q "$QUEUES" -t BenchJava --create-topic "$QUEUES" -c 1 -s "$SIZE" \
    -N 1 -d 30 --quiet > /dev/null 2>&1 || true
  "${java[@]}" org.apache.rocketmq.example.benchmark.Consumer -n "127.0.0.1:$NS_PORT" -t BenchJava \
    -g "bench_$impl" > "$cout" 2>&1 &
  JCONS=$!
  wait_lines "$cout" 'Consumer Started' 1 60 || true
  "${java[@]}" org.apache.rocketmq.example.benchmark.Producer -n "127.0.0.1:$NS_PORT" -t BenchJava \
    -w "$JAVA_THREADS" -s "$SIZE" > "$pout" 2>&1 &
  JPROD=$!
  if wait_lines "$pout" '^Send TPS' 1 90; then
    c0=$(cpu_ticks); k0=$(lines "$cout" '^TPS')
    wait_lines "$pout" '^Send TPS' 3 40 || true
    c1=$(cpu_ticks); k1=$(lines "$cout" '^TPS')
  fi
  stop_pid "$JPROD"; JPROD=
  stop_pid "$JCONS"; JCONS=
  local p c
  p=$(grep '^Send TPS' "$pout" | sed -n 2,3p || true)
  c=$(grep '^TPS' "$cout" | sed -n "$((k0 + 1)),${k1}p" || true)
  if [ "$(grep -c . <<<"$p")" -lt 2 ]; then
    echo "$impl $label: no result: $(tail -3 "$pout")"; LAST="0 0"; return
  fi
  # "Send TPS: n Max RT: n Average RT: x Send Failed: n Response Failed: n"
  # "TPS: n FAIL: n AVG(B2C) RT: x AVG(S2C) RT: x MAX(B2C) RT: n MAX(S2C) RT: n"
  local tps rt maxrt failed ctps s2c b2c cpu_us
  tps=$(awk '{ s += $3 } END { printf "%d", s / NR }' <<<"$p")
  rt=$(awk '{ s += $9 } END { printf "%.2f", s / NR }' <<<"$p")
  maxrt=$(tail -1 <<<"$p" | awk '{ print $6 }')
  failed=$(tail -1 <<<"$p" | awk '{ print $12 + $15 }')
  ctps=$(awk 'NF { s += $2; n++ } END { printf "%d", n ? s / n : 0 }' <<<"$c")
  b2c=$(awk 'NF { s += $7; n++ } END { printf "%.2f", n ? s / n : 0 }' <<<"$c")
  s2c=$(awk 'NF { s += $10; n++ } END { printf "%.2f", n ? s / n : 0 }' <<<"$c")
  cpu_us=$(( tps > 0 ? (c1 - c0) * 10000 / (tps * 20) : 0 ))
  printf '%-7s %-38s %8s msg/s  avg RT %s ms  max RT %s ms  failed %s  consumed %s msg/s  avg store->consume %s ms  born->consume %s ms  broker CPU %4s us/msg  load %s\n' \
    "$impl" "$label" "$tps" "$rt" "$maxrt" "$failed" "$ctps" "$s2c" "$b2c" "$cpu_us" "$(cut -d' ' -f1-3 /proc/loadavg)"
  LAST="$tps $cpu_us"
}

declare -A TPS CPU
# The rows: flush type, label, mqbench arguments (the topic is created by the first row of a broker).
ROWS=(
  "ASYNC_FLUSH|sync sends, 8 connections|-c 8"
  "ASYNC_FLUSH|pipelined, 8 connections x 8|-c 8 -w 8"
  "ASYNC_FLUSH|Apache benchmark Producer + Consumer|java"
  "SYNC_FLUSH|SYNC_FLUSH sync sends, 32 connections|-c 32"
)
echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); ${SIZE} B bodies, $QUEUES queues, ${DURATION} s per mqbench row, Java Producer -w $JAVA_THREADS"
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
    if [ "$args" = java ]; then
      java_row "$impl" "$label"
    else
      # shellcheck disable=SC2086
      row "$impl" "$label" -t BenchApache $args
    fi
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
