# bench/lib.sh: what the bench scripts share. Source it, then set WORK (a scratch directory)
# and add every background process to PIDS; `trap cleanup EXIT` stops them and removes WORK
# (kept with KEEP_WORK=1).
PIDS=()

cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  [[ ${KEEP_WORK:-0} == 1 ]] || rm -rf "$WORK"
}

# free_port: a loopback TCP port nothing listens on right now.
free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_port PORT: returns once 127.0.0.1:PORT accepts; exits the script after 10 s.
wait_port() {
  for _ in $(seq 1 100); do
    (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "bench/$(basename "$0"): nothing listens on $1" >&2
  exit 1
}

# rss_kib PID: the process's resident set, KiB.
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
