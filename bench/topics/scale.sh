#!/usr/bin/env bash
# Topic and group creation at scale (bench/README.md, "Topics and groups"): per side, a
# fresh name server + broker, TOPICS topics then N_GROUPS groups created one at a time
# through the admin protocol (bench_topics), 10,000 route lookups, then the broker
# restarted on the store holding them to time its start.
#   bench/topics/scale.sh [extra broker.conf lines ...]   e.g. compressedRegister=true
#   SIDES="ours apache" bench/topics/scale.sh             ours, then Apache's, then ours/Apache
# Apache's side is its 4.9.7 name server and broker from Maven Central (the newest whose
# server jars are there; compat/apache/servers/pom.xml, as bench/apache.sh), needs java 17+
# and mvn. Its cost per creation grows with the table (it rewrites topics.json, or
# subscriptionGroup.json, on each), so each phase of a side stops after the first step
# that ends past its budget and the figures say how far it got.
# Environment (defaults in brackets):
#   RMQ_BUILDDIR  build directory with mqnamesrv, mqbroker, bench/topics/bench_topics [./build]
#   SIDES         "ours", "apache" or both, in that order [ours]
#   TOPICS [100000]  N_GROUPS [20000]  STEP [10000]
#   TOPIC_BUDGET, GROUP_BUDGET  seconds per side for the topics / the groups [none]
#   PROBE         seconds of `bench_topics probe` after the creations: one topic every
#                 100 ms, each timed to its answer and its route, while the periodic full
#                 registrations of the large table go on [0: none]
#   APACHE_HEAP, APACHE_NS_HEAP  -Xms/-Xmx of Apache's broker and name server [1g, 512m]
#   BENCH_DIR     scratch directory, removed at the end unless given [mktemp under /tmp]
#   NS_PORT, BROKER_PORT  listen ports [29876, 20911]
set -euo pipefail
cd "$(dirname "$0")/../.."
# Our servers log to stderr, kept in $WORK/<side>/*.log.
export RMQ_LOG_STDERR=1
BUILD=$(cd "${RMQ_BUILDDIR:-build}" && pwd)
TOOL=$BUILD/bench/topics/bench_topics
for bin in "$BUILD/mqnamesrv" "$BUILD/mqbroker" "$TOOL"; do
  [ -x "$bin" ] || { echo "scale.sh: $bin missing (make mqnamesrv mqbroker bench/topics/bench_topics)" >&2; exit 1; }
done
SIDES=${SIDES:-ours}
TOPICS=${TOPICS:-100000}
N_GROUPS=${N_GROUPS:-20000}   # not GROUPS: bash owns that name
STEP=${STEP:-10000}
HEAP=${APACHE_HEAP:-1g}
NS_HEAP=${APACHE_NS_HEAP:-512m}
WORK=${BENCH_DIR:-$(mktemp -d /tmp/rmq-scale-XXXXXX)}
mkdir -p "$WORK"
NS_PORT=${NS_PORT:-29876}
BROKER_PORT=${BROKER_PORT:-20911}
NS=127.0.0.1:$NS_PORT
BUDGET_ARGS=()
[ -z "${TOPIC_BUDGET:-}" ] || BUDGET_ARGS+=(--topic-budget "$TOPIC_BUDGET")
[ -z "${GROUP_BUDGET:-}" ] || BUDGET_ARGS+=(--group-budget "$GROUP_BUDGET")
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

wait_port() {  # wait_port PORT PID: up to 120 s, while PID lives
  local deadline=$(( $(date +%s) + 120 ))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    kill -0 "$2" 2>/dev/null || { echo "scale.sh: process $2 exited before port $1 opened" >&2; exit 1; }
    [ "$(date +%s)" -lt "$deadline" ] || { echo "port $1 not open after 120 s" >&2; exit 1; }
    sleep 0.01
  done
}

for side in $SIDES; do
  [ "$side" = ours ] || [ "$side" = apache ] || { echo "scale.sh: SIDES takes ours and apache, not $side" >&2; exit 2; }
done
if [[ " $SIDES " == *" apache "* ]]; then
  command -v java >/dev/null && command -v mvn >/dev/null || { echo "scale.sh: SIDES=apache needs java and mvn" >&2; exit 1; }
  CP_FILE=$WORK/servers.classpath
  timeout 600 mvn -B -q -f compat/apache/servers/pom.xml dependency:build-classpath \
    -Dmdep.outputFile="$CP_FILE" > "$WORK/mvn.log" 2>&1 ||
    { echo "scale.sh: Apache's server jars do not resolve:" >&2; tail -5 "$WORK/mvn.log" >&2; exit 1; }
fi

# apache_java HOME HEAP MAIN ARGS...: an Apache server JVM in the background (logback into HOME/logs).
apache_java() {
  local home=$1 heap=$2 main=$3 kind
  shift 3
  mkdir -p "$home/conf"
  for kind in namesrv broker; do
    printf '<configuration><appender name="F" class="ch.qos.logback.core.FileAppender"><file>%s</file><encoder><pattern>%%d %%-5level %%logger{0} - %%msg%%n</pattern></encoder></appender><root level="INFO"><appender-ref ref="F"/></root></configuration>\n' \
      "$home/logs/$kind.log" > "$home/conf/logback_$kind.xml"
  done
  ROCKETMQ_HOME=$home HOME=$home java -Xms"$heap" -Xmx"$heap" -XX:MaxDirectMemorySize=512m \
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED \
    -Dtls.server.mode=disabled -Duser.home="$home" -Drocketmq.home.dir="$home" \
    -cp "$(cat "$CP_FILE")" "$main" "$@" &
}

# run_side SIDE [broker.conf lines...]: the whole measurement for one implementation.
run_side() {
  local side=$1 dir=$WORK/$1 t
  shift
  mkdir -p "$dir"
  printf 'listenPort=%s\nkvConfigPath=%s/kvConfig.json\n' "$NS_PORT" "$dir" > "$dir/namesrv.properties"
  if [ "$side" = apache ]; then
    apache_java "$dir/namesrv-home" "$NS_HEAP" org.apache.rocketmq.namesrv.NamesrvStartup \
      -c "$dir/namesrv.properties" >> "$dir/namesrv.log" 2>&1
  else
    echo "listenAddress=127.0.0.1" >> "$dir/namesrv.properties"
    "$BUILD/mqnamesrv" -c "$dir/namesrv.properties" >> "$dir/namesrv.log" 2>&1 &
  fi
  NS_PID=$!
  wait_port "$NS_PORT" "$NS_PID"

  cat > "$dir/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-scale
brokerId=0
brokerIP1=127.0.0.1
listenPort=$BROKER_PORT
storePathRootDir=$dir/store
storePathCommitLog=$dir/store/commitlog
mappedFileSizeCommitLog=67108864
namesrvAddr=$NS
EOF
  [ "$side" = apache ] || echo "listenAddress=127.0.0.1" >> "$dir/broker.conf"
  local line
  for line in "$@"; do echo "$line" >> "$dir/broker.conf"; done

  echo "== $side: start on an empty store"
  t=$(date +%s%N)
  start_broker "$side" "$dir"
  "$TOOL" wait -b "127.0.0.1:$BROKER_PORT" -T 300 > /dev/null
  echo "RESULT side=$side empty_start_ms=$(( ($(date +%s%N) - t) / 1000000 )) (exec to the first answered request)"

  echo "== $side: $TOPICS topics, then $N_GROUPS groups, one at a time (broker.conf extras: ${*:-none};" \
       "budgets: topics ${TOPIC_BUDGET:-none} s, groups ${GROUP_BUDGET:-none} s)"
  timeout 7200 "$TOOL" create -n "$NS" -b "127.0.0.1:$BROKER_PORT" -t "$TOPICS" -g "$N_GROUPS" -s "$STEP" \
    --ns-pid "$NS_PID" --broker-pid "$BROKER_PID" "${BUDGET_ARGS[@]}" || echo "bench_topics create failed (exit $?)"

  if [ "${PROBE:-0}" -gt 0 ]; then
    echo "== $side: one topic every 100 ms for $PROBE s beside the table"
    timeout $((PROBE + 120)) "$TOOL" probe -n "$NS" -b "127.0.0.1:$BROKER_PORT" -T "$PROBE" || echo "bench_topics probe failed (exit $?)"
  fi

  echo "== $side: clean stop, then start on the store holding them"
  t=$(date +%s%N)
  stop_pid "$BROKER_PID"
  echo "broker stop (writes pending tables): $(( ($(date +%s%N) - t) / 1000000 )) ms"
  ls -l "$dir/store/config/" | awk 'NR > 1 && $1 !~ /^d/ { print "  " $5 "  " $9 }'
  t=$(date +%s%N)
  start_broker "$side" "$dir"
  "$TOOL" wait -b "127.0.0.1:$BROKER_PORT" -T 300 > /dev/null
  echo "RESULT side=$side broker_start_ms=$(( ($(date +%s%N) - t) / 1000000 )) (exec to the first answered request)"
  echo "broker CPU until then: $(awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) * 1000 / hz }' "/proc/$BROKER_PID/stat") ms"
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "broker RSS after start: $(awk '$1 == "VmRSS:" { print $2 }' "/proc/$BROKER_PID/status") KiB"
  stop_pid "$BROKER_PID"; BROKER_PID=
  stop_pid "$NS_PID"; NS_PID=
}

start_broker() {  # start_broker SIDE DIR: sets BROKER_PID
  if [ "$1" = apache ]; then
    apache_java "$2/broker-home" "$HEAP" org.apache.rocketmq.broker.BrokerStartup -c "$2/broker.conf" >> "$2/broker.log" 2>&1
  else
    "$BUILD/mqbroker" -c "$2/broker.conf" >> "$2/broker.log" 2>&1 &
  fi
  BROKER_PID=$!
  wait_port "$BROKER_PORT" "$BROKER_PID"
}

echo "== $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg); sides: $SIDES"
for side in $SIDES; do
  # Not a pipeline: run_side sets NS_PID/BROKER_PID for cleanup in this shell.
  exec {out}> >(tee "$WORK/$side.out")
  tee_pid=$!
  run_side "$side" "$@" >&"$out" 2>&1
  exec {out}>&-
  wait "$tee_pid" || true   # tee has written all of it
done

# Ours / Apache for every step both reached, and for the single figures.
if [ -s "$WORK/ours.out" ] && [ -s "$WORK/apache.out" ]; then
  echo "== ours / Apache (below 1: ours is faster or smaller)"
  awk '
    function ratio(o, a) { return a > 0 ? sprintf("%.3f", o / a) : "-" }   # CPU can be 0 ticks in a small step
    FNR == 1 { side++ }
    ($1 == "topics" || $1 == "groups") && $2 ~ /^[0-9]+$/ {
      k = $1 " " $2; if (side == 1) { o[k] = $0; order[++n] = k } else a[k] = $0
    }
    /^RESULT/ { for (i = 2; i <= NF; i++) if (split($i, kv, "=") == 2 && kv[2] ~ /^[0-9.]+$/) r[side, kv[1]] = kv[2] }
    END {
      printf "%-6s %7s  %9s  %11s  %11s\n", "what", "count", "us/create", "ns_cpu_us/c", "br_cpu_us/c"
      for (j = 1; j <= n; j++) {
        k = order[j]; if (!(k in a)) continue
        split(o[k], x, " "); split(a[k], y, " ")
        printf "%-6s %7s  %9s  %11s  %11s\n", x[1], x[2], ratio(x[3], y[3]), ratio(x[4], y[4]), ratio(x[5], y[5])
      }
      split("avg_us p50_us p99_us empty_start_ms broker_start_ms", ks, " ")
      for (i = 1; i in ks; i++)
        if (r[1, ks[i]] > 0 && r[2, ks[i]] > 0) printf "%-16s %10s / %10s = %.3f\n", ks[i], r[1, ks[i]], r[2, ks[i]], r[1, ks[i]] / r[2, ks[i]]
    }' "$WORK/ours.out" "$WORK/apache.out"
fi
