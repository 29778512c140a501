#!/usr/bin/env bash
# Installs what building and testing rocketmq-c needs on Debian/Ubuntu.
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
pkgs="build-essential autoconf automake libtool pkg-config libevent-dev libcjson-dev
      libssl-dev zlib1g-dev check procps libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler"
# The compat suites need Node.js/npm (ali-ons), a JDK with Maven (official Java clients and
# Apache's own servers) and Go (rocketmq-client-go); a machine's own install counts.
command -v npm >/dev/null 2>&1 || pkgs="$pkgs nodejs npm"
command -v java >/dev/null 2>&1 || pkgs="$pkgs default-jdk-headless"
command -v mvn >/dev/null 2>&1 || pkgs="$pkgs maven"
command -v go >/dev/null 2>&1 || pkgs="$pkgs golang-go"
# compat/grpc-python makes a venv for the 5.x gRPC Python SDK (python3 -m venv needs ensurepip).
python3 -c 'import ensurepip' >/dev/null 2>&1 || pkgs="$pkgs python3 python3-venv"
# tests/ha/test_ha_netns.sh makes its network namespaces with ip (iproute2).
command -v ip >/dev/null 2>&1 || pkgs="$pkgs iproute2"
# compat/console opens mqconsole's pages in Debian's Chromium (headless, driven by playwright-core).
[ -x /usr/bin/chromium ] || pkgs="$pkgs chromium"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  # shellcheck disable=SC2086
  $SUDO apt-get install -y -qq $missing >/dev/null
fi
echo "dependencies present"
