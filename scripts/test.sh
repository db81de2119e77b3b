#!/usr/bin/env bash
# Installs the dependencies, builds, and runs every test: unit tests (GoogleTest) and the
# interop tests that drive the real binary with real clients (pytest + slixmpp).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j 2 "$@"
