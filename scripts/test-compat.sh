#!/usr/bin/env bash
# Compatibility matrix: real brokers behind mqtt-auth-proxy, real client libraries in front.
#   scripts/test-compat.sh            the whole matrix (Mosquitto, Aedes, RabbitMQ; ~2-3 min)
#   scripts/test-compat.sh --quick    the CI subset (Mosquitto + Aedes, under 2 minutes)
# Other arguments go to tests/compat/run_matrix.py (--markdown FILE, --json FILE, --keep).
# Needs the binaries in build/bin (or MAP_BIN_DIR) and the packages scripts/install-deps.sh
# installs; the npm test peers (mqtt, aedes) are installed here from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."

compat=tests/compat
if [ ! -d "$compat/node_modules/mqtt" ] || [ ! -d "$compat/node_modules/aedes" ] \
   || [ "$compat/package-lock.json" -nt "$compat/node_modules/.package-lock.json" ]; then
  (cd "$compat" && npm ci --no-audit --no-fund --loglevel=error)
fi

exec /usr/bin/python3 "$compat/run_matrix.py" "$@"
