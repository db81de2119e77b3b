#!/usr/bin/env bash
# Configures and builds into ./build (release with debug info). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" > /dev/null
jobs=$(nproc 2>/dev/null || echo 2)
ninja -C build -j "$jobs"
