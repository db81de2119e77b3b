#!/usr/bin/env bash
# Installs everything Starling needs to build, run and test, from Debian 12's packages, and
# brings each one to the version apt offers: an image can carry older builds than its
# archive (Debian 12 images ship libexpat1-dev 2.5.0-1+deb12u1, older than the security
# updates), and "installed" is not "new enough". `apt-get install` of an installed package
# upgrades it to the candidate, so every package is always named.
set -euo pipefail
packages=(
  # build
  g++ cmake ninja-build pkg-config ccache
  # libraries
  libboost1.81-dev libexpat1-dev libssl-dev libsqlite3-dev libicu-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  # tests and benchmarks; clang and its runtime for the fuzz targets (libFuzzer)
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  python3-slixmpp python3-aioxmpp python3-nbxmpp python3-pytest python3-openssl openssl
  go-sendxmpp profanity tmux
  # the web transports' tests: JavaScript clients (npm, below) and a Python WebSocket client
  nodejs python3-websockets chromium
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# Package lists older than six hours may not know the current security updates.
lists_fresh() {
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*_InRelease' -mmin -360 2>/dev/null | head -1)" ]
}

# "name installed-version candidate-version" for each package not at its candidate.
behind() {
  apt-cache policy "${packages[@]}" 2>/dev/null | awk '
    /^[^ ]/ { name = $1; sub(":$", "", name) }
    /Installed:/ { installed = $2 }
    /Candidate:/ { if (installed != $2) print name, installed, $2 }'
}

if ! lists_fresh; then
  echo "install-deps: updating the package lists"
  $sudo apt-get update -qq
fi
todo=$(behind)
if [ -n "$todo" ]; then
  echo "install-deps: installing or upgrading (package, installed, candidate):"
  echo "$todo" | sed 's/^/  /'
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${packages[@]}"
  left=$(behind)
  if [ -n "$left" ]; then
    echo "install-deps: still not at the candidate version (held?):" >&2
    echo "$left" | sed 's/^/  /' >&2
    exit 1
  fi
fi

# The web tests' JavaScript clients, at the versions package-lock.json pins.
(cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
