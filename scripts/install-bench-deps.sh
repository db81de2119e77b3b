#!/usr/bin/env bash
# Installs what the server comparison in bench/compare needs, from Debian 12's packages:
# Prosody and ejabberd (which bench/compare runs as its own processes, never as system
# services), openssl (self-signed certificates) and util-linux (taskset, prlimit).
#
# The packages' postinst scripts would start and enable the system services. For the install a
# policy-rc.d that forbids every start is put in place (unless one is there already, as in most
# containers); afterwards the services are stopped and disabled whatever happened, and an epmd
# that the ejabberd postinst left behind (it runs `ejabberdctl status`) is stopped if no Erlang
# node uses it. Quick and idempotent when everything is there: it then only makes sure that no
# service runs.
set -euo pipefail
packages=(
  prosody       # 0.12.3: internal storage, mod_admin_shell (prosodyctl shell)
  ejabberd      # 23.01 on Erlang/OTP 25, mnesia
  openssl
  util-linux    # taskset, prlimit
  procps        # pgrep
)
# Not installed: lua-unbound (Prosody then prints a notice and uses its own DNS resolver; with
# no s2s it resolves nothing), lua-event (only for use_libevent; the default epoll backend needs
# nothing), lua-readline (interactive shell only). --no-install-recommends keeps them out.

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

stop_services() {
  local systemd=0
  [ -d /run/systemd/system ] && systemd=1   # systemd is PID 1 (not in most containers)
  for svc in prosody ejabberd; do
    [ -e "/etc/init.d/$svc" ] || [ -e "/lib/systemd/system/$svc.service" ] || continue
    if [ $systemd -eq 1 ]; then
      $sudo systemctl stop "$svc" >/dev/null 2>&1 || true
    elif [ -x "/etc/init.d/$svc" ]; then
      $sudo "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
    fi
    # Not started at boot: sysv links and (this works offline too) the systemd unit.
    $sudo update-rc.d "$svc" disable >/dev/null 2>&1 || true
    if command -v systemctl >/dev/null; then
      $sudo systemctl disable "$svc" >/dev/null 2>&1 || true
    fi
  done
  # epmd started by the postinst's ejabberdctl calls: stopped when no node is registered
  # (bench/compare's nodes do not use epmd).
  if command -v epmd >/dev/null && pgrep -x epmd >/dev/null 2>&1; then
    if ! epmd -names 2>/dev/null | grep -q '^name '; then
      epmd -kill >/dev/null 2>&1 || true
    fi
  fi
}

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    # invoke-rc.d and deb-systemd-invoke ask it before starting a service; 101: forbidden.
    printf '#!/bin/sh\n# bench: no service starts during install-bench-deps.sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod 755 "$policy"
    made_policy=1
  fi
  cleanup() { if [ $made_policy -eq 1 ]; then $sudo rm -f "$policy"; fi; }
  trap cleanup EXIT
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
fi
stop_services
