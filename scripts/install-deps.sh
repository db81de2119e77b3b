#!/usr/bin/env bash
# Installs everything Starling needs to build, run and test, from Debian 12's packages.
set -euo pipefail
packages=(
  # build
  g++ cmake ninja-build pkg-config ccache
  # libraries
  libboost1.81-dev libexpat1-dev libssl-dev libsqlite3-dev libicu-dev
  libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  python3-slixmpp python3-aioxmpp python3-pytest python3-openssl openssl
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
