#!/usr/bin/env bash
# make install DESTDIR=tmp, then the installed programs run with the installed conf files:
# the layout (bin/, conf/, systemd units naming the installed paths), mqbroker -m, the
# ACL sample parsing, a name server and a broker on free ports with their log files under
# ${HOME}/logs/rocketmqlogs, a topic, a send and a consume with the installed mqadmin, a
# Prometheus scrape, and a clean stop (exit 0) of both. Every wait is bounded.
set -uo pipefail
build=${RMQ_BUILDDIR:?run from make check}
tmp=$(mktemp -d /tmp/test_install.XXXXXX)
pids=()
passed=0 failed=0
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
ok() { passed=$((passed + 1)); echo "ok: $*"; }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else fail "$what"; fi; }
finish() { echo "$passed passed, $failed failed"; [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]; exit $?; }

# A port nobody listens on now, with its neighbours p-2..p+1 (a broker's fast and HA ports),
# below the kernel's ephemeral range (32768-) so no outgoing connection holds it, each
# claimed for this script's life by an flock in the directory the C tests claim theirs in
# (tests/testproc.h), so no parallel test takes one. free_port VAR sets VAR.
mkdir -p /tmp/rmqc-test-ports
claim_port() {  # claim_port P: flock on P's file, kept on a descriptor of this shell
  local fd
  exec {fd}>"/tmp/rmqc-test-ports/$1" || return 1
  flock -n "$fd" && ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
  exec {fd}>&-
  return 1
}
free_port() {
  local p q ok
  for _ in $(seq 1000); do
    p=$((12002 + RANDOM % 17990)) ok=1
    for q in $((p - 2)) $((p - 1)) $p $((p + 1)); do
      claim_port "$q" || { ok=; break; }
    done
    [ -n "$ok" ] && { printf -v "$1" %d "$p"; return; }
  done
  return 1
}
wait_grep() {  # wait_grep PATTERN FILE: up to 10 s for PATTERN to appear in FILE
  for _ in $(seq 100); do
    grep -q "$1" "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}
wait_port() {  # wait_port PORT PID: up to 10 s for PORT to accept, while PID lives
  for _ in $(seq 200); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
stop() {  # stop PID: SIGTERM, up to 15 s, then the exit status
  kill -TERM "$1"
  for _ in $(seq 300); do
    kill -0 "$1" 2>/dev/null || { wait "$1"; return $?; }
    sleep 0.05
  done
  kill -9 "$1"; wait "$1"; return 137
}

if ! make -s -C "$build" install DESTDIR="$tmp/root" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"; fail "make install"; finish
fi
ok "make install DESTDIR"
bin=$(dirname "$(find "$tmp/root" -type f -name mqbroker | head -1)")
conf=$(dirname "$(find "$tmp/root" -type f -name broker.conf | head -1)")
units=$(dirname "$(find "$tmp/root" -type f -name rocketmq-broker.service | head -1)")
home=${bin%/bin}
for p in mqnamesrv mqbroker mqadmin mqshutdown; do check "bin/$p installed" test -x "$bin/$p"; done
check "bin/ and conf/ side by side under one prefix" test "$conf" = "$home/conf"
for f in broker.conf namesrv.conf plain_acl.yml; do check "conf/$f installed" test -s "$conf/$f"; done
check "broker.conf is commented" grep -q '^# ---- metrics' "$conf/broker.conf"
prefix=${home#"$tmp/root"}
check "broker unit runs the installed mqbroker with the installed conf" \
  grep -qx "ExecStart=$prefix/bin/mqbroker -c $prefix/conf/broker.conf" "$units/rocketmq-broker.service"
check "namesrv unit runs the installed mqnamesrv" \
  grep -qx "ExecStart=$prefix/bin/mqnamesrv -c $prefix/conf/namesrv.conf" "$units/rocketmq-namesrv.service"
# a second install keeps an edited conf file
echo "# edited" >>"$conf/broker.conf"
make -s -C "$build" install DESTDIR="$tmp/root" >"$tmp/install2.log" 2>&1
check "reinstall keeps edited conf" grep -q '^# edited' "$conf/broker.conf"

# mqbroker -m: the important settings, from the installed file
"$bin/mqbroker" -c "$conf/broker.conf" -m >"$tmp/m.txt" 2>&1
check "mqbroker -m prints brokerName" grep -qx 'brokerName=broker-a' "$tmp/m.txt"
check "mqbroker -m prints namesrvAddr" grep -qx 'namesrvAddr=127.0.0.1:9876' "$tmp/m.txt"
check "mqbroker -m prints listenPort" grep -qx 'listenPort=10911' "$tmp/m.txt"
check "mqbroker -m prints only important keys" test "$(grep -c '^maxFrameLength=' "$tmp/m.txt")" = 0

work=$tmp/work
mkdir -p "$work"
export HOME=$work   # logs go to $HOME/logs/rocketmqlogs, as for Apache's ${user.home}
unset RMQ_LOG_STDERR
free_port ns_port && free_port b_port && free_port m_port && free_port acl_port || { fail "free ports"; finish; }
# the installed namesrv.conf, moved to a free port
sed "s/^listenPort=.*/listenPort=$ns_port/" "$conf/namesrv.conf" >"$work/namesrv.conf"
echo "listenAddress=127.0.0.1" >>"$work/namesrv.conf"
"$bin/mqnamesrv" -c "$work/namesrv.conf" >"$work/namesrv.out" 2>&1 &
ns_pid=$!; pids+=("$ns_pid")
check "installed mqnamesrv listens" wait_port "$ns_port" "$ns_pid"

# ACL sample: a broker with aclEnable=true and ROCKETMQ_HOME=the install parses it and starts
ROCKETMQ_HOME=$home "$bin/mqbroker" -c "$conf/broker.conf" --aclEnable=true --listenPort="$acl_port" \
  --listenAddress=127.0.0.1 --storePathRootDir="$work/acl-store" -n "127.0.0.1:$ns_port" \
  --mappedFileSizeCommitLog=4194304 >"$work/acl.out" 2>&1 &
acl_pid=$!; pids+=("$acl_pid")
check "broker with the installed plain_acl.yml starts" wait_port "$acl_port" "$acl_pid"
stop "$acl_pid"; check "ACL broker stops cleanly" test $? -eq 0

"$bin/mqbroker" -c "$conf/broker.conf" -n "127.0.0.1:$ns_port" --listenPort="$b_port" \
  --listenAddress=127.0.0.1 --brokerIP1=127.0.0.1 --storePathRootDir="$work/store" \
  --mappedFileSizeCommitLog=4194304 --metricsExporterType=PROM --metricsPromExporterPort="$m_port" \
  >"$work/broker.out" 2>&1 &
b_pid=$!; pids+=("$b_pid")
check "installed mqbroker listens" wait_port "$b_port" "$b_pid"
# The port accepts (into the kernel's backlog) as soon as it listens; the boot line comes
# after the rest of the start (store threads, first registration), so wait for it.
check "boot line on stdout" wait_grep 'The broker\[broker-a, 127.0.0.1:'"$b_port"'\] boot success' "$work/broker.out"
logs=$work/logs/rocketmqlogs
check "broker.log written" grep -q 'boot success' "$logs/broker.log"
check "remoting.log has the listeners" grep -q '\[remoting\] listening on 127.0.0.1:'"$b_port" "$logs/remoting.log"
check "store.log written" grep -q '\[store\]' "$logs/store.log"
check "namesrv.log written" grep -q 'boot success' "$logs/namesrv.log"

export NAMESRV_ADDR=127.0.0.1:$ns_port
admin() { timeout 30 "$bin/mqadmin" "$@" >>"$work/admin.out" 2>&1; }
registered=false
for _ in $(seq 100); do  # the broker registers at start; wait for the route to know it
  timeout 10 "$bin/mqadmin" clusterList >"$work/cluster.txt" 2>&1
  grep -q "127.0.0.1:$b_port" "$work/cluster.txt" && { registered=true; break; }
  sleep 0.1
done
check "broker registered with the name server" $registered
check "mqadmin updateTopic" admin updateTopic -b "127.0.0.1:$b_port" -t InstallT -r 1 -w 1
timeout 30 "$bin/mqadmin" sendMessage -t InstallT -p "installed hello" >"$work/send.txt" 2>&1
check "mqadmin sendMessage answers SEND_OK" grep -q SEND_OK "$work/send.txt"
timeout 30 "$bin/mqadmin" consumeMessage -t InstallT -b broker-a -c 1 -g CG_install >"$work/consume.txt" 2>&1
check "mqadmin consumeMessage reads it back" grep -q "installed hello" "$work/consume.txt"
scrape=$( { exec 3<>"/dev/tcp/127.0.0.1/$m_port" && printf 'GET /metrics HTTP/1.0\r\n\r\n' >&3 && timeout 5 cat <&3; } 2>/dev/null)
check "scrape counts the send" grep -q '^rocketmq_messages_in_total{.*topic="InstallT".*} 1$' <<<"$scrape"

# logLevel at run time: DEBUG lines (accepted connections) appear only after the update
check "no DEBUG lines at INFO" test "$(cat "$logs"/*.log | grep -c ' DEBUG ')" = 0
check "updateBrokerConfig logLevel=DEBUG" admin updateBrokerConfig -b "127.0.0.1:$b_port" -k logLevel -v DEBUG
admin clusterList
check "broker logs DEBUG lines after the update" grep -q ' DEBUG \[remoting\] accepted ' "$logs/remoting.log"
timeout 30 "$bin/mqadmin" updateBrokerConfig -b "127.0.0.1:$b_port" -k logLevel -v LOUD >"$work/bad.txt" 2>&1
check "an unknown level is refused" grep -q "logLevel" "$work/bad.txt"
check "updateNamesrvConfig logLevel=DEBUG" admin updateNamesrvConfig -k logLevel -v DEBUG
admin clusterList
check "name server logs DEBUG lines after the update" grep -q ' DEBUG \[namesrv\] accepted ' "$logs/namesrv.log"

stop "$b_pid"; check "broker stops cleanly (exit 0)" test $? -eq 0
check "broker.log has the shutdown" grep -q 'broker stopped' "$logs/broker.log"
stop "$ns_pid"; check "name server stops cleanly (exit 0)" test $? -eq 0
pids=()
if [ "$failed" -ne 0 ]; then
  for f in "$work"/*.out "$work"/*.txt; do echo "== $f"; tail -15 "$f"; done
fi
finish
