#!/usr/bin/env bash
# Installs the npm test peers from their lock files: MQTT.js and aedes (tests/compat) and
# playwright-core (tests/console). Only test peers come from npm; nothing is built from it.
set -euo pipefail
cd "$(dirname "$0")/.."
for dir in tests/compat tests/console; do
  [ -f "$dir/package-lock.json" ] || continue
  if [ ! -d "$dir/node_modules" ] || [ "$dir/package-lock.json" -nt "$dir/node_modules" ]; then
    npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
    touch "$dir/node_modules"
  fi
done
