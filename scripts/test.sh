#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test: unit tests (GoogleTest) and the
# interop tests that drive the real binary with real clients (pytest + slixmpp); then the
# same tests under AddressSanitizer + UndefinedBehaviorSanitizer (the interop suite against
# that build's server) and ThreadSanitizer, and every fuzz target for a bounded time
# (STARLING_FUZZ_SECONDS each, default 30). STARLING_QUICK=1 stops after the first round.
# Extra arguments go to the first ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 "$@"
if [ -n "${STARLING_QUICK:-}" ]; then exit 0; fi
scripts/sanitize.sh asan-ubsan
scripts/sanitize.sh tsan
scripts/fuzz.sh "${STARLING_FUZZ_SECONDS:-30}"
