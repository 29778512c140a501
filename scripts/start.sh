#!/usr/bin/env bash
# Starts mqnamesrv (9876) and mqbroker (10911, fast port 10909, HA 10912) with
# embedded defaults; data and logs under ./run/. Stop them with: build/mqshutdown broker; build/mqshutdown namesrv
set -euo pipefail
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
