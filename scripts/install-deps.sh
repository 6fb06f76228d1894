#!/usr/bin/env bash
# Installs every Debian package mqtt-auth-proxy needs to build, run and test.
# Idempotent: packages already present are left alone; safe to run repeatedly as root.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git
  # libraries
  libuv1-dev android-libboringssl-dev libyaml-cpp-dev libhiredis-dev libspdlog-dev
  libfmt-dev libcrypt-dev libargon2-dev libgtest-dev libgmock-dev
  # test peers and tools
  redis-server redis-tools mosquitto mosquitto-clients python3 python3-paho-mqtt
  procps iproute2 curl
)

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
# The Debian packages start their own daemons; tests start private instances instead.
for svc in redis-server mosquitto; do
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$svc" 2>/dev/null; then
    $SUDO systemctl stop "$svc" || true
  fi
done
echo "install-deps: installed ${missing[*]}"
