# compat/grpc-common/servers.sh: sourced by the compat/grpc-* suites. Starts a name server and
# a broker serving gRPC on free 127.0.0.1 ports, creates the topics and groups every suite
# uses, and stops them again by PID.
#
#   TARGET=ours (default)  $RMQ_BUILDDIR/mqnamesrv + mqbroker (RMQ_BUILDDIR defaults to
#                          ../../build from the suite), grpcServerPort in the broker's -c file;
#                          topics and groups made with our mqadmin.
#   TARGET=apache          Apache RocketMQ 5.3.3 from Maven Central: NamesrvStartup, and
#                          ProxyStartup -pm local (the proxy embeds the broker); topics and
#                          groups made with Apache's mqadmin (MQAdminStartup). Needs java + mvn.
#
# After grpc_servers_start: GRPC_ENDPOINT (host:port of the gRPC service), GRPC_ENDPOINT2 (ours
# with GRPC_TWO_BROKERS=1: a second broker's, serving TopicMulti beside the first), NAMESRV_ADDR,
# BROKER_ADDR (remoting). Every wait has a timeout; a failure prints the tail of the server's
# log. RMQ_KEEP_DIRS=1 keeps the servers' directory after the run.
#
# Topics (each suite runs its own servers, so the names are fixed):
#   TopicNormal, TopicSimple, TopicPush, TopicInterop, TopicMulti  message.type=NORMAL
#   TopicFifo   message.type=FIFO         TopicDelay, TopicRecall  message.type=DELAY
#   TopicTx     message.type=TRANSACTION
# Groups: GroupFifo is orderly (consumeMessageOrderly=true: FIFO consumption); any other group
# is created on first use. autoCreateTopicEnable=false so that a missing topic stays missing.
# With GRPC_AUTH=1 the broker (ours, or Apache's broker and proxy) runs ACL 2.0 (authenticationEnabled, authorizationEnabled) with
# one super user, GRPC_AUTH_USER / GRPC_AUTH_SECRET (exported), whose credentials the suite's clients
# then sign their calls with.
# recallMessageEnable=true: timer messages may be recalled (Apache's default refuses).
# Transactions are checked back early (transactionTimeOut 2 s, check every 2 s) so that the
# check-back scenario fits the suite's time.

GRPC_COMMON_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GRPC_PIDS=()
GRPC_TOPICS=("TopicNormal:NORMAL" "TopicSimple:NORMAL" "TopicPush:NORMAL" "TopicInterop:NORMAL"
             "TopicFifo:FIFO" "TopicDelay:DELAY" "TopicTx:TRANSACTION" "TopicMulti:NORMAL" "TopicRecall:DELAY")

# N free TCP ports on 127.0.0.1, one a line, such that for each p also p-2 and p+1 are free
# (a broker binds its fast port listenPort-2 and HA port listenPort+1) and no two overlap.
grpc_free_ports() {
  python3 - "$1" <<'EOF'
import random, socket, sys
def free(p):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); return True
    except OSError:
        return False
    finally:
        s.close()
taken = set()
for _ in range(int(sys.argv[1])):
    while True:
        p = random.randint(20000, 45000)
        near = {p - 2, p - 1, p, p + 1}
        if not near & taken and all(free(q) for q in near):
            taken |= near; print(p); break
EOF
}

# grpc_wait_port NAME PORT PID SECONDS: until PORT accepts, PID dies, or SECONDS pass.
grpc_wait_port() {
  local name=$1 port=$2 pid=$3 secs=$4 i
  for ((i = 0; i < secs * 5; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "$name (pid $pid) exited while starting; its log:"; tail -30 "$GRPC_DIR/$name.log"; return 1
    fi
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$name did not listen on $port within ${secs}s; its log:"; tail -30 "$GRPC_DIR/$name.log"
  return 1
}

grpc_launch() { # NAME CMD...: starts CMD in the background, logging to $GRPC_DIR/NAME.log
  local name=$1; shift
  "$@" > "$GRPC_DIR/$name.log" 2>&1 &
  GRPC_PIDS+=($!)
  GRPC_LAST_PID=$!
}

# The Apache JVMs' flags on Java 17: the store unmaps files through DirectByteBuffer's cleaner
# (the two --add-opens); the rest keep them small and quick to start.
grpc_apache_java() { # HOME MAIN ARGS...: the command, in GRPC_CMD (an array)
  local home=$1; shift
  GRPC_CMD=(env ROCKETMQ_HOME="$home" HOME="$home" java -Xms128m -Xmx512m -XX:MaxDirectMemorySize=512m
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    -Dtls.server.mode=disabled -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xss512k
    -Duser.home="$home" -Drocketmq.home.dir="$home" -cp "$GRPC_APACHE_CP" "$@")
}

# Resolves Apache's 5.3.3 servers from Maven Central into target/apache.classpath. Prints the
# first Maven error and returns 1 when they do not resolve.
grpc_apache_classpath() {
  local out cpfile=$GRPC_COMMON_DIR/target/apache.classpath
  command -v mvn >/dev/null 2>&1 || { echo "mvn is not installed"; return 1; }
  command -v java >/dev/null 2>&1 || { echo "java is not installed"; return 1; }
  if [ ! -s "$cpfile" ]; then
    mkdir -p "$GRPC_COMMON_DIR/target"
    if ! out=$(cd "$GRPC_COMMON_DIR/apache" && timeout 600 mvn -B -q dependency:build-classpath \
        -Dmdep.outputFile="$cpfile" 2>&1); then
      printf '%s\n' "$out" | sed 's/\x1b\[[0-9;]*m//g' | grep -m1 '^\[ERROR\] .' | cut -c1-240
      rm -f "$cpfile"; return 1
    fi
  fi
  GRPC_APACHE_CP=$(cat "$cpfile")
}

# The topics and groups, written into the store's config/ before the broker starts (Apache's
# topics.json / subscriptionGroup.json formats, which both brokers read): quicker than one
# mqadmin JVM per topic, and the broker registers them with the name server at start.
grpc_write_store_config() { # [STORE [TOPIC:TYPE...]]: the suite's topics and groups, or those given
  local store=${1:-$GRPC_DIR/store} t sep=""
  local cfg=$store/config topics=("${GRPC_TOPICS[@]}")
  [ $# -gt 1 ] && topics=("${@:2}")
  mkdir -p "$cfg"
  {
    printf '{"topicConfigTable":{'
    for t in "${topics[@]}"; do
      printf '%s"%s":{"topicName":"%s","readQueueNums":4,"writeQueueNums":4,"perm":6,' "$sep" "${t%%:*}" "${t%%:*}"
      printf '"topicFilterType":"SINGLE_TAG","topicSysFlag":0,"order":false,"attributes":{"message.type":"%s"}}' "${t#*:}"
      sep=,
    done
    printf '}}\n'
  } > "$cfg/topics.json"
  printf '%s\n' '{"subscriptionGroupTable":{"GroupFifo":{"groupName":"GroupFifo","consumeEnable":true,"consumeFromMinEnable":true,"consumeBroadcastEnable":true,"consumeMessageOrderly":true,"retryQueueNums":1,"retryMaxTimes":16,"brokerId":0,"whichBrokerWhenConsumeSlowly":1,"notifyConsumerIdsChangedEnable":true}}}' \
    > "$cfg/subscriptionGroup.json"
}

# Waits (60 s) until the name server routes TopicFifo, i.e. the broker has registered.
grpc_wait_route() {
  local i out
  for ((i = 0; i < 120; i++)); do
    if [ "$TARGET" = apache ]; then
      grpc_apache_java "$GRPC_DIR/admin-home" org.apache.rocketmq.tools.command.MQAdminStartup \
        topicRoute -n "$NAMESRV_ADDR" -t TopicFifo
      out=$("${GRPC_CMD[@]}" 2>&1) && return 0
      sleep 1
    else
      out=$("$RMQ_BUILDDIR/mqadmin" topicRoute -n "$NAMESRV_ADDR" -t TopicFifo 2>&1) && return 0
      sleep 0.5
    fi
  done
  echo "no route for TopicFifo within 60 s: $out"; return 1
}

# grpc_servers_start DIR: starts the servers of $TARGET under DIR (emptied first).
grpc_servers_start() {
  GRPC_DIR=$1
  rm -rf "$GRPC_DIR"; mkdir -p "$GRPC_DIR/store" "$GRPC_DIR/home/conf" "$GRPC_DIR/admin-home"
  local nsport bport gport pport
  read -r nsport bport gport pport <<< "$(grpc_free_ports 4 | tr '\n' ' ')"
  NAMESRV_ADDR=127.0.0.1:$nsport BROKER_ADDR=127.0.0.1:$bport GRPC_ENDPOINT=127.0.0.1:$gport
  export NAMESRV_ADDR BROKER_ADDR GRPC_ENDPOINT
  echo "listenPort=$nsport" > "$GRPC_DIR/namesrv.conf"
  grpc_write_store_config
  cat > "$GRPC_DIR/broker.conf" <<EOF
brokerClusterName=DefaultCluster
brokerName=broker-grpc
brokerId=0
brokerIP1=127.0.0.1
listenPort=$bport
namesrvAddr=$NAMESRV_ADDR
storePathRootDir=$GRPC_DIR/store
storePathCommitLog=$GRPC_DIR/store/commitlog
mappedFileSizeCommitLog=67108864
autoCreateTopicEnable=false
autoCreateSubscriptionGroup=true
transactionTimeOut=2000
transactionCheckInterval=2000
grpcServerPort=$gport
recallMessageEnable=true
EOF
  if [ "${GRPC_AUTH:-}" = 1 ]; then
    GRPC_AUTH_USER=rocketmq GRPC_AUTH_SECRET=12345678
    export GRPC_AUTH_USER GRPC_AUTH_SECRET
    printf 'authenticationEnabled=true\nauthorizationEnabled=true\n' >> "$GRPC_DIR/broker.conf"
    printf 'initAuthenticationUser={"username":"%s","password":"%s"}\n' "$GRPC_AUTH_USER" "$GRPC_AUTH_SECRET" \
      >> "$GRPC_DIR/broker.conf"
    # What a broker signs its requests to another with (the gRPC routes ask GET_BROKER_CONFIG).
    printf 'innerClientAuthenticationCredentials={"accessKey":"%s","secretKey":"%s"}\n' "$GRPC_AUTH_USER" \
      "$GRPC_AUTH_SECRET" >> "$GRPC_DIR/broker.conf"
    # Apache's broker keeps users in its own store only with the Local providers named.
    printf 'authenticationMetadataProvider=org.apache.rocketmq.auth.authentication.provider.LocalAuthenticationMetadataProvider\n' \
      >> "$GRPC_DIR/broker.conf"
    printf 'authorizationMetadataProvider=org.apache.rocketmq.auth.authorization.provider.LocalAuthorizationMetadataProvider\n' \
      >> "$GRPC_DIR/broker.conf"
  fi
  if [ "$TARGET" = apache ]; then
    # The proxy's own port for remoting clients is not used by the suites but must be free.
    local auth=""
    # The proxy's own pipeline (AuthenticationPipeline, AuthorizationPipeline) checks gRPC calls,
    # reading users and ACLs from the broker it embeds.
    [ "${GRPC_AUTH:-}" = 1 ] && auth=',"authenticationEnabled":true,"authorizationEnabled":true,"authenticationProvider":"org.apache.rocketmq.auth.authentication.provider.DefaultAuthenticationProvider","authenticationMetadataProvider":"org.apache.rocketmq.proxy.auth.ProxyAuthenticationMetadataProvider","authorizationProvider":"org.apache.rocketmq.auth.authorization.provider.DefaultAuthorizationProvider","authorizationMetadataProvider":"org.apache.rocketmq.proxy.auth.ProxyAuthorizationMetadataProvider"'
    printf '{"rocketMQClusterName":"DefaultCluster","grpcServerPort":%s,"remotingListenPort":%s,"namesrvAddr":"%s","proxyMode":"local"%s}\n' \
      "$gport" "$pport" "$NAMESRV_ADDR" "$auth" > "$GRPC_DIR/proxy.json"
    grpc_apache_java "$GRPC_DIR/home" org.apache.rocketmq.namesrv.NamesrvStartup -c "$GRPC_DIR/namesrv.conf"
    grpc_launch namesrv "${GRPC_CMD[@]}"
    grpc_wait_port namesrv "$nsport" "$GRPC_LAST_PID" 60 || return 1
    grpc_apache_java "$GRPC_DIR/home" org.apache.rocketmq.proxy.ProxyStartup \
      -pm local -bc "$GRPC_DIR/broker.conf" -pc "$GRPC_DIR/proxy.json" -n "$NAMESRV_ADDR"
    grpc_launch proxy "${GRPC_CMD[@]}"
    grpc_wait_port proxy "$gport" "$GRPC_LAST_PID" 120 || return 1
  else
    export RMQ_LOG_STDERR=1
    grpc_launch namesrv env HOME="$GRPC_DIR/home" "$RMQ_BUILDDIR/mqnamesrv" -c "$GRPC_DIR/namesrv.conf"
    grpc_wait_port namesrv "$nsport" "$GRPC_LAST_PID" 30 || return 1
    grpc_launch broker env HOME="$GRPC_DIR/home" "$RMQ_BUILDDIR/mqbroker" -c "$GRPC_DIR/broker.conf"
    grpc_wait_port broker "$gport" "$GRPC_LAST_PID" 30 || return 1
    if [ "${GRPC_TWO_BROKERS:-}" = 1 ]; then grpc_second_broker || return 1; fi
  fi
  grpc_wait_route
}

# With GRPC_TWO_BROKERS=1, ours only: a second broker (broker-grpc-2, its own remoting and gRPC ports) serving only
# TopicMulti, which the first one serves too: a route of two brokers, each at its own gRPC
# port (GRPC_ENDPOINT2). Waits (30 s) until the name server routes TopicMulti to both.
grpc_second_broker() {
  local bport gport i
  read -r bport gport <<< "$(grpc_free_ports 2 | tr '\n' ' ')"
  GRPC_ENDPOINT2=127.0.0.1:$gport
  export GRPC_ENDPOINT2
  mkdir -p "$GRPC_DIR/store2"
  grpc_write_store_config "$GRPC_DIR/store2" "TopicMulti:NORMAL"
  sed -e "s/^brokerName=.*/brokerName=broker-grpc-2/" -e "s/^listenPort=.*/listenPort=$bport/" \
    -e "s/^grpcServerPort=.*/grpcServerPort=$gport/" -e "s#^storePathRootDir=.*#storePathRootDir=$GRPC_DIR/store2#" \
    -e "s#^storePathCommitLog=.*#storePathCommitLog=$GRPC_DIR/store2/commitlog#" \
    "$GRPC_DIR/broker.conf" > "$GRPC_DIR/broker2.conf"
  grpc_launch broker2 env HOME="$GRPC_DIR/home" "$RMQ_BUILDDIR/mqbroker" -c "$GRPC_DIR/broker2.conf"
  grpc_wait_port broker2 "$gport" "$GRPC_LAST_PID" 30 || return 1
  for ((i = 0; i < 60; i++)); do
    "$RMQ_BUILDDIR/mqadmin" topicRoute -n "$NAMESRV_ADDR" -t TopicMulti 2>/dev/null | grep -q broker-grpc-2 && return 0
    sleep 0.5
  done
  echo "no route of TopicMulti to broker-grpc-2 within 30 s"; return 1
}

# Stops every server started, SIGTERM then SIGKILL after 15 s, and removes the directory.
grpc_servers_stop() {
  local pid i
  for pid in "${GRPC_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${GRPC_PIDS[@]}"; do
    for ((i = 0; i < 75; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  GRPC_PIDS=()
  [ "${RMQ_KEEP_DIRS:-}" = 1 ] || [ -z "${GRPC_DIR:-}" ] || rm -rf "$GRPC_DIR"
}
