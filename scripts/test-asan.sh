#!/usr/bin/env bash
# test-asan.sh: builds the whole project with AddressSanitizer + UndefinedBehaviorSanitizer
# (LeakSanitizer included) in build-asan/ and runs every ctest test (unit and integration)
# against those binaries. Any sanitizer report fails the run: ASan/LSan abort the process,
# UBSan halts on the first error (-fno-sanitize-recover in the root CMakeLists too).
#
#   scripts/test-asan.sh              configure, build, run all tests
#   BUILD_DIR=... JOBS=... scripts/test-asan.sh
#   scripts/test-asan.sh -R unit.     extra arguments go to ctest
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build-asan}
JOBS=${JOBS:-$(nproc)}
ROOT=$(pwd)

cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMAP_SANITIZE=ON >/dev/null
cmake --build "$BUILD_DIR" -j"$JOBS"

# Reports go to files under $REPORTS as well as making the process fail: the daemons run
# as children of the Python integration tests, which stop them with SIGTERM and do not
# look at their exit status, so a report from mqtt-auth-proxy (e.g. a leak found at exit)
# would otherwise go unnoticed. Any file there fails the run.
REPORTS="$ROOT/$BUILD_DIR/sanitizer-reports"
rm -rf "$REPORTS" && mkdir -p "$REPORTS"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$REPORTS/asan"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$REPORTS/ubsan"
SUPP="$ROOT/tests/sanitizers/lsan.supp"
if [[ -f $SUPP ]]; then export LSAN_OPTIONS="suppressions=$SUPP:print_suppressions=0"; fi

status=0
(cd "$BUILD_DIR" && ctest --output-on-failure -j"$JOBS" --timeout 600 "$@") || status=$?
if compgen -G "$REPORTS/*" >/dev/null; then
  echo "sanitizer reports:" >&2
  for f in "$REPORTS"/*; do echo "==== $f" >&2; cat "$f" >&2; done
  status=1
fi
exit $status
