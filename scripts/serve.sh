#!/usr/bin/env bash
# Installs the dependencies, builds, and starts the server with the defaults: domain
# localhost, data under ./data, a self-signed certificate made on first start.
# Any arguments go to `starling serve` (e.g. --config starling.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
exec build/src/apps/starling/starling serve "$@"
