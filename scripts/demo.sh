#!/usr/bin/env bash
# scripts/demo.sh: what `make demo` runs once the binaries are built.
#
# Starts a private redis-server (127.0.0.1:6379) and mosquitto (127.0.0.1:1883, anonymous),
# creates a CA, a server certificate, a token device and a certificate device if absent,
# then runs mqtt-auth-proxy on config/mqtt-auth-proxy.yaml until Ctrl-C. All state lives in
# .demo/ at the repository root, so a rerun reuses the same CA, devices and key.
#
# Ports already in use: the demo stops with a message instead of writing demo devices into
# a Redis or broker it did not start (it could be a real one). DEMO_REUSE=1 reuses a Redis
# that answers PING on 6379 and a broker that accepts an anonymous connection on 1883;
# the demo then never stops them. 8883 and 8884 must be free in every case.
#
# Ctrl-C (or SIGTERM) stops the proxy, redis-server and mosquitto this script started, and
# nothing else.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${BIN_DIR:-$ROOT/build/bin}"
STATE="$ROOT/.demo"
PROXY="$BIN/mqtt-auth-proxy"
CTL="$BIN/mqtt-authctl"
REDIS_PORT=6379
MQTT_PORT=1883
TOKEN_DEVICE=demo-device
CERT_DEVICE=demo-cert-device
DEVICE_USERNAME=demo
CERT_NAME=demo
REUSE="${DEMO_REUSE:-0}"

say() { printf 'demo: %s\n' "$*"; }
die() { printf 'demo: error: %s\n' "$*" >&2; exit 1; }

# ---- processes this script started, stopped by the EXIT trap --------------------------------
started_pids=()
started_names=()

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  local i
  # Reverse order: the proxy first, then the broker, then Redis.
  for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
    local pid="${started_pids[$i]}"
    if kill -0 "$pid" 2>/dev/null; then
      say "stopping ${started_names[$i]} (pid $pid)"
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
    local pid="${started_pids[$i]}" waited=0
    while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 50 ]; do
      sleep 0.1
      waited=$((waited + 1))
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "${started_names[$i]} (pid $pid) did not stop in 5 s; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME LOGFILE COMMAND...: runs COMMAND in the background, output to LOGFILE, and
# remembers its pid for cleanup.
start() {
  local name="$1" log="$2"
  shift 2
  "$@" >"$log" 2>&1 &
  started_pids+=("$!")
  started_names+=("$name")
}

is_listening() {
  [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.1 s.
wait_until() {
  local seconds="$1" what="$2"
  shift 2
  local tries=$((seconds * 10))
  while ! "$@" >/dev/null 2>&1; do
    tries=$((tries - 1))
    [ "$tries" -gt 0 ] || die "$what did not come up within ${seconds} s"
    sleep 0.1
  done
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" PING 2>/dev/null)" = PONG ]; }
broker_answers() {
  mosquitto_pub -h 127.0.0.1 -p "$MQTT_PORT" -i mqtt-auth-proxy-demo-probe -t demo/probe -n -q 0
}

# ---- preconditions ---------------------------------------------------------------------------
for tool in redis-server redis-cli mosquitto mosquitto_pub ss; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found; run scripts/install-deps.sh"
done
for binary in "$PROXY" "$CTL"; do
  [ -x "$binary" ] || die "$binary not found; build first (make, or make demo)"
done
for port in 8883 8884; do
  # The proxy binds with SO_REUSEPORT, so a second instance would silently share the port.
  if is_listening "$port"; then
    die "port $port is already in use (another mqtt-auth-proxy?); stop it and rerun"
  fi
done

mkdir -p "$STATE/redis"
chmod 700 "$STATE"

# ---- Redis -----------------------------------------------------------------------------------
if is_listening "$REDIS_PORT"; then
  if [ "$REUSE" != 1 ]; then
    die "port $REDIS_PORT is already in use. The demo writes demo devices into the Redis it
      uses, so it will not touch one it did not start. Either stop it
      (e.g. systemctl stop redis-server) or rerun with DEMO_REUSE=1 to use it as is."
  fi
  redis_answers || die "port $REDIS_PORT is in use by something that does not answer Redis PING"
  say "reusing the Redis already listening on 127.0.0.1:$REDIS_PORT (DEMO_REUSE=1; left running)"
else
  # Persisted in .demo/redis so devices and certificates survive a rerun.
  start redis-server "$STATE/redis.log" \
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
      --dir "$STATE/redis" --dbfilename dump.rdb --save "60 1" --appendonly no
  wait_until 10 "redis-server (see $STATE/redis.log)" redis_answers
  say "redis-server on 127.0.0.1:$REDIS_PORT (log: $STATE/redis.log)"
fi

# ---- Mosquitto -------------------------------------------------------------------------------
if is_listening "$MQTT_PORT"; then
  if [ "$REUSE" != 1 ]; then
    die "port $MQTT_PORT is already in use. Either stop that broker
      (e.g. systemctl stop mosquitto) or rerun with DEMO_REUSE=1 to relay to it as is."
  fi
  broker_answers ||
    die "port $MQTT_PORT is in use by something that does not accept an anonymous MQTT connection"
  say "reusing the MQTT broker already listening on 127.0.0.1:$MQTT_PORT (DEMO_REUSE=1; left running)"
else
  cat >"$STATE/mosquitto.conf" <<EOF
# Written by scripts/demo.sh: the backend broker, reachable on loopback only. It trusts
# every client because only the proxy (which authenticated the device) connects to it.
listener $MQTT_PORT 127.0.0.1
allow_anonymous true
persistence false
log_dest stderr
EOF
  start mosquitto "$STATE/mosquitto.log" mosquitto -c "$STATE/mosquitto.conf"
  wait_until 10 "mosquitto (see $STATE/mosquitto.log)" is_listening "$MQTT_PORT"
  say "mosquitto on 127.0.0.1:$MQTT_PORT (log: $STATE/mosquitto.log)"
fi

# ---- PKI, devices, certificate ---------------------------------------------------------------
ctl() { "$CTL" --redis "redis://127.0.0.1:$REDIS_PORT/0" "$@"; }
ctl_quiet() { ctl "$@" >/dev/null 2>&1; }

if [ ! -f "$STATE/pki/root_ca.key" ]; then
  say "creating the demo CA in $STATE/pki"
  ctl ca init --out "$STATE/pki" >/dev/null
fi
if [ ! -f "$STATE/pki/server.crt" ] || [ ! -f "$STATE/pki/server.key" ]; then
  say "creating the server certificate (localhost, 127.0.0.1)"
  ctl server-cert --ca "$STATE/pki" --cn localhost --san localhost --san 127.0.0.1 \
    --out "$STATE/pki" >/dev/null
fi

# The token device's key is generated once and kept in .demo/ so every run prints the same
# working command. The registry stores only its hash.
key_file="$STATE/$TOKEN_DEVICE.key"
new_key=0
if [ ! -s "$key_file" ]; then
  (umask 077 && od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$key_file")
  new_key=1
fi
DEVICE_KEY="$(cat "$key_file")"
if ! ctl_quiet device get "$TOKEN_DEVICE"; then
  say "adding token device $TOKEN_DEVICE"
  ctl device add "$TOKEN_DEVICE" --username "$DEVICE_USERNAME" --key "$DEVICE_KEY" >/dev/null
elif [ "$new_key" = 1 ]; then
  say "setting a new key for $TOKEN_DEVICE (the saved one was missing)"
  ctl device set-key "$TOKEN_DEVICE" --key "$DEVICE_KEY" >/dev/null
fi

if ! ctl_quiet device get "$CERT_DEVICE"; then
  say "adding certificate device $CERT_DEVICE"
  ctl device add "$CERT_DEVICE" --username "$DEVICE_USERNAME" --auth cert >/dev/null
fi

BUNDLE="$STATE/certs/${CERT_NAME}_certs"
if [ -f "$BUNDLE/$CERT_NAME.crt" ] && [ -f "$BUNDLE/$CERT_NAME.key" ]; then
  if ! ctl_quiet cert get "$CERT_NAME"; then
    say "registering the existing certificate $BUNDLE/$CERT_NAME.crt"
    ctl cert import "$BUNDLE/$CERT_NAME.crt" --name "$CERT_NAME" >/dev/null
  fi
else
  if ctl_quiet cert get "$CERT_NAME"; then
    # Registered, but its key is gone: replace it.
    say "replacing certificate $CERT_NAME (its files are missing from $BUNDLE)"
    ctl_quiet cert unbind "$CERT_NAME" "$CERT_DEVICE" || true
    ctl cert delete "$CERT_NAME" >/dev/null
  fi
  rm -rf "$BUNDLE"
  say "creating client certificate $CERT_NAME in $BUNDLE"
  ctl cert create --ca "$STATE/pki" --name "$CERT_NAME" --out "$STATE/certs" >/dev/null
fi
ctl cert bind "$CERT_NAME" "$CERT_DEVICE" >/dev/null

# ---- proxy configuration ---------------------------------------------------------------------
# The default config names server.crt, server.key and root_ca.crt relative to its own
# folder: copy it and those files side by side.
cp "$ROOT/config/mqtt-auth-proxy.yaml" "$STATE/mqtt-auth-proxy.yaml"
cp "$STATE/pki/server.crt" "$STATE/pki/root_ca.crt" "$STATE/"
(umask 077 && cp "$STATE/pki/server.key" "$STATE/server.key")
"$PROXY" --check-config "$STATE/mqtt-auth-proxy.yaml" >/dev/null ||
  die "the demo configuration does not load (see above)"

# ---- how to connect --------------------------------------------------------------------------
CA="$STATE/root_ca.crt"
TLS_CERT=(--cafile "$BUNDLE/root_ca.crt" --cert "$BUNDLE/$CERT_NAME.crt" --key "$BUNDLE/$CERT_NAME.key")
cat <<EOF

================================================================================
mqtt-auth-proxy demo: token listener on 8883, certificate listener on 8884,
relaying to mosquitto on 127.0.0.1:$MQTT_PORT. State and logs: $STATE
The broker allows one connection per client ID, so subscriber and publisher
below are different devices.

Subscribe as the certificate device on 8884 (mutual TLS, no password):
  mosquitto_sub -h localhost -p 8884 ${TLS_CERT[*]} -i $CERT_DEVICE -u $DEVICE_USERNAME -t 'demo/#' -v

Publish as the token device on 8883 (the device key is the password):
  mosquitto_pub -h localhost -p 8883 --cafile $CA -i $TOKEN_DEVICE -u $DEVICE_USERNAME -P $DEVICE_KEY -t demo/hello -m 'hello over 8883' -q 1
  (MQTT 5: add -V mqttv5)

The other way round:
  mosquitto_sub -h localhost -p 8883 --cafile $CA -i $TOKEN_DEVICE -u $DEVICE_USERNAME -P $DEVICE_KEY -t 'demo/#' -v
  mosquitto_pub -h localhost -p 8884 ${TLS_CERT[*]} -i $CERT_DEVICE -u $DEVICE_USERNAME -t demo/hello -m 'hello over 8884' -q 1

Python (paho-mqtt 1.6), publish as the token device:
/usr/bin/python3 - <<'PY'
import paho.mqtt.client as mqtt
client = mqtt.Client(client_id="$TOKEN_DEVICE", protocol=mqtt.MQTTv311)
client.username_pw_set("$DEVICE_USERNAME", "$DEVICE_KEY")
client.tls_set(ca_certs="$CA")
client.connect("localhost", 8883)
client.loop_start()
client.publish("demo/hello", "hello from paho", qos=1).wait_for_publish()
client.disconnect()
client.loop_stop()
PY
(as the certificate device: client_id="$CERT_DEVICE", username_pw_set("$DEVICE_USERNAME"),
 tls_set(ca_certs="$BUNDLE/root_ca.crt", certfile="$BUNDLE/$CERT_NAME.crt",
         keyfile="$BUNDLE/$CERT_NAME.key"), port 8884)

Press Ctrl-C to stop the proxy and what this demo started.
================================================================================

EOF

# ---- the proxy -------------------------------------------------------------------------------
# Started in the background and waited for, so that Ctrl-C reaches this script's trap
# (which stops it) and never leaves redis-server or mosquitto behind. Its log goes to
# this terminal.
"$PROXY" --config "$STATE/mqtt-auth-proxy.yaml" &
started_pids+=("$!")
started_names+=(mqtt-auth-proxy)
proxy_status=0
wait "${started_pids[-1]}" || proxy_status=$?
say "mqtt-auth-proxy exited with status $proxy_status"
exit "$proxy_status"
