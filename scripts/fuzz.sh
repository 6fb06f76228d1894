#!/usr/bin/env bash
# fuzz.sh: builds the libFuzzer targets of tests/fuzz with clang (ASan + UBSan + coverage
# feedback) in build-fuzz/ and runs each for SECONDS (default 60), starting from its
# committed seed corpus. Fails when any target finds a crash, a sanitizer report, a
# failed check, a leak or a timeout; the reproducer is left in build-fuzz/findings/<target>/.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     e.g. scripts/fuzz.sh 600 connect
# Needs clang and libclang-rt-14-dev (libFuzzer's runtime) from Debian.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
shift || true
BUILD_DIR=${BUILD_DIR:-build-fuzz}
JOBS=${JOBS:-$(nproc)}
ROOT=$(pwd)

CC=${CC:-clang} CXX=${CXX:-clang++} cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMAP_FUZZ=ON -DMAP_SANITIZE=ON >/dev/null

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=()
  for dir in tests/fuzz/corpus/*/; do
    name=$(basename "$dir")
    # A corpus without its target (e.g. the PROXY protocol parser not yet in the tree).
    if grep -Eq "^ *map_fuzz_target\(${name}[ )]" tests/fuzz/CMakeLists.txt &&
       { [[ $name != proxy_protocol ]] || [[ -f proxy/proxy_protocol.h ]]; }; then
      targets+=("$name")
    fi
  done
fi
cmake --build "$BUILD_DIR" -j"$JOBS" --target "${targets[@]/#/fuzz_}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for name in "${targets[@]}"; do
  findings="$ROOT/$BUILD_DIR/findings/$name"
  work="$ROOT/$BUILD_DIR/corpus-work/$name"   # new inputs found; the committed corpus stays as is
  mkdir -p "$findings" "$work"
  max_len=4096
  [[ $name == config ]] && max_len=8192
  echo "== fuzz_$name for ${SECONDS_EACH}s"
  if ! "$BUILD_DIR/bin/fuzz_$name" -max_total_time="$SECONDS_EACH" -max_len=$max_len \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$findings/" \
        "$work" "tests/fuzz/corpus/$name" 2>"$findings/log.txt"; then
    tail -60 "$findings/log.txt" >&2
    failed+=("$name")
  else
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb|cov:" "$findings/log.txt" | tail -3
  fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: failures in ${failed[*]} (reproducers in $BUILD_DIR/findings/)" >&2
  exit 1
fi
echo "fuzz: ${targets[*]}: no findings"
