#!/usr/bin/env bash
# Starts mqnamesrv (9876) and mqbroker (10911, fast port 10909, HA 10912) with
# embedded defaults; data and logs under ./run/ (RMQ_LOG_STDERR=1: the servers log to stderr,
# sent here to ./run/logs/*.out, instead of ~/logs/rocketmqlogs/). Stop them with:
# build/mqshutdown broker; build/mqshutdown namesrv
set -euo pipefail
export RMQ_LOG_STDERR=1
cd "$(dirname "$0")/.."
root=$PWD/run
mkdir -p "$root/logs"
build/mqnamesrv >"$root/logs/namesrv.out" 2>&1 &
echo "mqnamesrv started (pid $!), log $root/logs/namesrv.out"
if [ -x build/mqbroker ]; then
  sleep 0.2
  build/mqbroker -n 127.0.0.1:9876 -c /dev/null --storePathRootDir="$root/store" \
    >"$root/logs/broker.out" 2>&1 &
  echo "mqbroker started (pid $!), store $root/store, log $root/logs/broker.out"
fi
