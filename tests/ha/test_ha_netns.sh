#!/bin/sh
# Controller-mode failover across hosts: each server in a network namespace of
# its own (its own address on a bridge), created and removed here. Two name
# servers: host 1 with the controller leader, host 5 with a controller
# follower (the brokers list the follower first and find the leader through
# it). Broker set broker-ns: A on host 2, B on host 3; broker set broker-nsB:
# C on host 6, D on host 7, which takes sends at once through every fault of
# the first set. The client (mqadmin, both name servers) on host 4. Faults to
# broker-ns, one at a time:
#   1. kill -9 the master: the slave is elected, sends resume;
#   2. cut the new master's link: after the heartbeat timeout the other broker
#      (the old master, restarted and back in sync) is elected; the cut one
#      learns of it when its link returns and follows as slave;
#   3. pause the master (SIGSTOP) past the heartbeat timeout: the other is
#      elected; the resumed one takes nothing and follows;
#   4. partition the master from its slave alone (blackhole routes): nothing
#      is acknowledged until the master drops the slave from the SyncStateSet,
#      then it acknowledges alone; the slave catches up when it heals.
# Prints the time from each fault to the first SEND_OK seen by the client.
# Needs root and iproute2; skips (77) otherwise, fails when CI=true.
set -u
B=${RMQ_BUILDDIR:-.}
TAG=$$
NSS="rmq${TAG}b rmq${TAG}h1 rmq${TAG}h2 rmq${TAG}h3 rmq${TAG}c rmq${TAG}h5 rmq${TAG}h6 rmq${TAG}h7"
NET=10.$((TAG % 200 + 20)).$((TAG / 200 % 250)).
PIDS=""
DIR=$(mktemp -d /tmp/test_ha_netns.XXXXXX)

skip() {
    if [ "${CI:-}" = true ]; then echo "FAIL: $1 (CI=true)"; exit 1; fi
    echo "SKIP: $1"; exit 77
}
[ "$(id -u)" = 0 ] || skip "network namespaces need root"
command -v ip >/dev/null || skip "no ip (iproute2)"
ip netns add "rmq${TAG}chk" 2>/dev/null || skip "ip netns add is not permitted here"
ip netns del "rmq${TAG}chk"

cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    for n in $NSS; do ip netns del "$n" 2>/dev/null; done
    if [ -n "${KEEP_NETNS_LOGS:-}" ]; then echo "logs kept in $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; for f in "$DIR"/*.log; do echo "--- $f"; tail -15 "$f"; done; exit 1; }
now_ms() { date +%s%3N; }

# ---- the network: a bridge in its own namespace, one veth per host ----
set -e
for n in $NSS; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip -n "rmq${TAG}b" link add br0 type bridge
ip -n "rmq${TAG}b" link set br0 up
i=1
for h in h1 h2 h3 c h5 h6 h7; do
    ip -n "rmq${TAG}b" link add "v$h" type veth peer name eth0 netns "rmq${TAG}$h"
    ip -n "rmq${TAG}b" link set "v$h" master br0 up
    ip -n "rmq${TAG}$h" addr add "${NET}$i/24" dev eth0
    ip -n "rmq${TAG}$h" link set eth0 up
    i=$((i + 1))
done
set +e
NS1=${NET}1:9876
NS2=${NET}5:9876
NS_ADDR="$NS1;$NS2"
CTL_ADDR=${NET}1:9878
CTL2_ADDR=${NET}5:9878
A_IP=${NET}2
B_IP=${NET}3
on() { h=$1; shift; ip netns exec "rmq${TAG}$h" "$@"; }
# In the background, with the server's own PID in $! (exec all the way down).
spawn() { # host log command...
    h=$1 log=$2; shift 2
    ( exec env HOME="$DIR" RMQ_LOG_STDERR=1 ip netns exec "rmq${TAG}$h" "$@" >> "$log" 2>&1 ) &
}

# ---- servers ----
namesrv_conf() { # file self-id
    cat > "$1" <<EOF
listenPort=9876
kvConfigPath=$1.kv.json
enableControllerInNamesrv=true
controllerDLegerGroup=group1
controllerDLegerPeers=n0-$CTL_ADDR;n1-$CTL2_ADDR
controllerDLegerSelfId=$2
controllerStorePath=$1.controller
scanNotActiveBrokerInterval=500
EOF
}
namesrv_conf "$DIR/namesrv.conf" n0
namesrv_conf "$DIR/namesrv2.conf" n1
spawn h1 "$DIR/namesrv.log" "$B/mqnamesrv" -c "$DIR/namesrv.conf"
PIDS="$PIDS $!"
spawn h5 "$DIR/namesrv2.log" "$B/mqnamesrv" -c "$DIR/namesrv2.conf"
PIDS="$PIDS $!"

broker_conf() { # name ip [brokerName]
    cat > "$DIR/$1.conf" <<EOF
brokerClusterName=NetnsCluster
brokerName=${3:-broker-ns}
brokerIP1=$2
listenPort=10911
namesrvAddr=$NS_ADDR
storePathRootDir=$DIR/$1-store
mappedFileSizeCommitLog=16777216
brokerTopicEnable=true
enableControllerMode=true
controllerAddr=$CTL2_ADDR;$CTL_ADDR
allAckInSyncStateSet=true
brokerHeartbeatInterval=300
controllerHeartBeatTimeoutMills=3000
syncBrokerMetadataPeriod=1000
checkSyncStateSetPeriod=1000
registerNameServerPeriod=1000
syncFlushTimeout=1500
EOF
}
broker_conf a "$A_IP"
broker_conf b "$B_IP"
broker_conf c "${NET}6" broker-nsB
broker_conf d "${NET}7" broker-nsB
start_broker() { # name host
    spawn "$2" "$DIR/$1.log" "$B/mqbroker" -c "$DIR/$1.conf"
    eval "PID_$1=$!"
    PIDS="$PIDS $!"
}

wait_up() { # addr
    for _ in $(seq 150); do
        on c "$B/mqadmin" clusterList -n "$NS_ADDR" 2>/dev/null | grep -q "$1" && return 0
        sleep 0.1
    done
    return 1
}

send() { on c "$B/mqadmin" sendMessage -n "$NS_ADDR" -t "${2:-broker-ns}" -p "$1" 2>&1; }
send_ok() { send "$1" | grep -q SEND_OK; }
# The other broker set takes sends at once, whatever happens to the first.
other_ok() { send "$1" broker-nsB | grep -q SEND_OK || fail "broker-nsB refused $1 during a fault of broker-ns"; }

# Sends until SEND_OK; prints the ms from $1 (a now_ms) to it, or fails after 30 s.
until_sent() { # t0 body
    while [ $(( $(now_ms) - $1 )) -lt 30000 ]; do
        send_ok "$2" && { echo $(( $(now_ms) - $1 )); return 0; }
        sleep 0.05
    done
    return 1
}

sleep 0.3
start_broker a h2
wait_up "$A_IP:10911" || fail "broker A did not register"
start_broker b h3
wait_up "$B_IP:10911" || fail "broker B did not register"
start_broker c h6
wait_up "${NET}6:10911" || fail "broker C did not register"
start_broker d h7
wait_up "${NET}7:10911" || fail "broker D did not register"
sleep 2    # B and D join their SyncStateSets
other_ok "other-before"

ACKED=0
for i in $(seq 1 20); do send_ok "before-$i" && ACKED=$((ACKED + 1)); done
[ "$ACKED" = 20 ] || fail "only $ACKED of 20 sends before the faults acknowledged"

# ---- fault 1: kill -9 the master (A) ----
T0=$(now_ms)
eval "kill -9 \$PID_a"
eval "wait \$PID_a" 2>/dev/null
other_ok "other-kill"
MS1=$(until_sent "$T0" "after-kill") || fail "no SEND_OK within 30 s of kill -9 of the master"
echo "netns: kill -9 of the master -> first SEND_OK through the name server: ${MS1} ms"

# A comes back as a slave of B and catches up.
start_broker a h2
sleep 3
for i in $(seq 1 10); do send_ok "between-$i" || fail "send $i to B failed"; done
sleep 2

# ---- fault 2: cut B's link ----
T0=$(now_ms)
ip -n "rmq${TAG}b" link set vh3 down
other_ok "other-cut"
MS2=$(until_sent "$T0" "after-cut") || fail "no SEND_OK within 30 s of cutting the master's link"
echo "netns: master's link cut -> first SEND_OK on the other broker: ${MS2} ms (heartbeat timeout 3000 ms)"
ip -n "rmq${TAG}b" link set vh3 up
for i in $(seq 1 10); do send_ok "after-cut-$i" || fail "send $i after the cut failed"; done

# B follows A as slave once it hears of the election; both logs end alike.
for _ in $(seq 100); do
    grep -q "now slave of $A_IP:10911" "$DIR/b.log" && break
    sleep 0.2
done
grep -q "now slave of $A_IP:10911" "$DIR/b.log" || fail "B never followed A after its link came back"

sleep 2   # B back in the SyncStateSet

# ---- fault 3: pause the master (A) past the heartbeat timeout ----
T0=$(now_ms)
eval "kill -STOP \$PID_a"
other_ok "other-pause"
MS3=$(until_sent "$T0" "after-pause") || fail "no SEND_OK within 30 s of pausing the master"
echo "netns: master paused (SIGSTOP) -> first SEND_OK on the other broker: ${MS3} ms"
sleep 1
eval "kill -CONT \$PID_a"
# Resumed, A is past its lease: it takes nothing, hears of B's election and follows it.
for _ in $(seq 100); do
    grep -q "now slave of $B_IP:10911" "$DIR/a.log" && break
    sleep 0.2
done
grep -q "now slave of $B_IP:10911" "$DIR/a.log" || fail "the resumed master never followed B"
for i in $(seq 1 10); do send_ok "after-pause-$i" || fail "send $i after the pause failed"; done
for _ in $(seq 50); do
    grep -q "handshake with master $B_IP:10912 done" "$DIR/a.log" && break
    sleep 0.2
done
grep -q "handshake with master $B_IP:10912 done" "$DIR/a.log" || fail "A does not replicate from B after the pause"
sleep 2   # A back in the SyncStateSet

# ---- fault 4: partition the master (B) from its slave (A) alone ----
# Both still reach the controller and the client. Sends are stored on B but not
# acknowledged (FLUSH_SLAVE_TIMEOUT) until B drops A from the SyncStateSet after
# haMaxTimeSlaveNotCatchup (15 s); then B alone acknowledges them.
T0=$(now_ms)
ip -n "rmq${TAG}h3" route add blackhole "$A_IP/32"
ip -n "rmq${TAG}h2" route add blackhole "$B_IP/32"
other_ok "other-partition"
MS4=$(until_sent "$T0" "after-partition") || fail "no SEND_OK within 30 s of partitioning the master from its slave"
echo "netns: master partitioned from its slave -> first SEND_OK on the master alone: ${MS4} ms (haMaxTimeSlaveNotCatchup 15000 ms)"
ip -n "rmq${TAG}h3" route del blackhole "$A_IP/32"
ip -n "rmq${TAG}h2" route del blackhole "$B_IP/32"
for i in $(seq 1 10); do send_ok "after-partition-$i" || fail "send $i after the partition healed failed"; done

# Every acknowledged message is on the current master (B).
OUT=$(on c "$B/mqadmin" printMsg -n "$NS_ADDR" -t broker-ns -d true 2>&1)
for m in before-1 before-20 after-kill between-1 between-10 after-cut after-cut-10 after-pause after-pause-10 \
    after-partition after-partition-10; do
    echo "$OUT" | grep -q "$m" || fail "acknowledged message $m missing on the master"
done
OUT=$(on c "$B/mqadmin" printMsg -n "$NS_ADDR" -t broker-nsB -d true 2>&1)
for m in other-before other-kill other-cut other-pause other-partition; do
    echo "$OUT" | grep -q "$m" || fail "acknowledged message $m missing on broker-nsB"
done
# Both name servers route both sets (the brokers registered with each).
for n in "$NS1" "$NS2"; do
    R=$(on c "$B/mqadmin" clusterList -n "$n" 2>&1)
    echo "$R" | grep -q "broker-nsB " && echo "$R" | grep -q "broker-ns " || fail "name server $n lacks a broker set: $R"
done
echo "PASS: netns failover (kill -9 ${MS1} ms, link cut ${MS2} ms, pause ${MS3} ms, partition ${MS4} ms)"
exit 0
