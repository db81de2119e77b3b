#!/usr/bin/env bash
# Builds with sanitizers and runs the tests under them:
#   scripts/sanitize.sh asan-ubsan   AddressSanitizer + UndefinedBehaviorSanitizer into
#                                    ./build-asan: unit, store and in-process tests, and the
#                                    interop suite against this build's server
#   scripts/sanitize.sh tsan         ThreadSanitizer into ./build-tsan: unit, store and
#                                    in-process tests (the real binary under TSan is too
#                                    slow for the interop suite's timings)
# Any report fails the run: UBSan aborts, ASan/LSan and TSan exit non-zero. Suppressions
# live in tests/sanitizers/, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
preset=${1:?usage: scripts/sanitize.sh asan-ubsan|tsan [ctest args]}
shift
case "$preset" in
  asan-ubsan) dir=build-asan; skip=() ;;
  tsan) dir=build-tsan; skip=(-E '^interop$') ;;
  *) echo "scripts/sanitize.sh: unknown preset $preset (asan-ubsan or tsan)" >&2; exit 2 ;;
esac
supp=$PWD/tests/sanitizers
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:strict_string_checks=1:detect_stack_use_after_return=1"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="suppressions=$supp/tsan.supp:halt_on_error=1:second_deadlock_stack=1"
# Tests that measure the server's resident memory cannot hold under ASan, whose quarantine
# keeps freed memory on purpose; they read this to skip that one assertion.
export STARLING_SANITIZED=$preset
cmake --preset "$preset" > /dev/null
ninja -C "$dir" -j "$(nproc 2>/dev/null || echo 2)"
ctest --test-dir "$dir" --output-on-failure -j 2 "${skip[@]}" "$@"
