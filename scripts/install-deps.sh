#!/usr/bin/env bash
# Installs every Debian package mqtt-auth-proxy needs to build, run and test.
# Idempotent: packages already present are left alone; safe to run repeatedly as root.
#   scripts/install-deps.sh          build, run, unit/integration/compat-quick/fuzz/ASan tests
#   scripts/install-deps.sh --all    also RabbitMQ, for the full compatibility matrix
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git clang
  # libraries
  libuv1-dev android-libboringssl-dev libyaml-cpp-dev libhiredis-dev libspdlog-dev
  libfmt-dev libcrypt-dev libargon2-dev libgtest-dev libgmock-dev zlib1g-dev
  libmicrohttpd-dev nlohmann-json3-dev
  # test peers and tools
  redis-server redis-tools mosquitto mosquitto-clients python3 python3-paho-mqtt python3-yaml
  procps iproute2 curl openssl libpaho-mqtt-dev docker-compose
  # benchmark peer, browser for the console test
  haproxy chromium
)
if [ "${1:-}" = "--all" ]; then
  packages+=(rabbitmq-server)
fi
# Node.js for the npm test peers (MQTT.js, aedes): Debian's, unless a node is already there.
if ! command -v node >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi
# libFuzzer's runtime ships with clang 14 in Debian 12 (libclang-rt-14-dev); name it when
# the clang package did not bring it.
if ! ls /usr/lib/llvm-14/lib/clang/14*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  packages+=(libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# The Debian packages may start their own daemons; tests start private instances instead.
for svc in redis-server mosquitto haproxy rabbitmq-server; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-deps: installed ${missing[*]}"
