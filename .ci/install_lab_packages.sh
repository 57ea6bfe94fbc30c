#!/usr/bin/env bash
# install_lab_packages.sh - install what the NAT lab (tests/natlab/) needs.
#
# Idempotent: installs only the Debian packages that are missing (running
# `apt-get update` first only in that case) and makes sure coturn is not left
# running as a system service, because the lab starts its own turnserver
# instances inside network namespaces.
#
# Usage (as root): .ci/install_lab_packages.sh
set -euo pipefail

# dnsmasq-base: the DNS server of tests/dns/dnsaddr_test.ts (the binary only, no system service);
# tcpdump: the LAN capture of tests/discovery/local_lan_test.ts.
packages=(iproute2 iptables coturn conntrack iputils-ping dnsmasq-base tcpdump)

log() { printf '[install_lab_packages] %s\n' "$*" >&2; }

if [[ $(id -u) != 0 ]]; then
  log "must run as root (apt-get and network namespaces need it)"
  exit 1
fi

is_installed() {
  [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true) == installed ]]
}

missing=()
for pkg in "${packages[@]}"; do
  is_installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # policy-rc.d exit 101 stops the package's maintainer scripts from starting
  # coturn as a service during installation (removed again right after).
  policy=/usr/sbin/policy-rc.d
  created_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy"
    chmod 755 "$policy"
    created_policy=1
  fi
  trap 'if ((created_policy)); then rm -f "$policy"; fi' EXIT
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  log "all packages present: ${packages[*]}"
fi

# Never leave a system-wide coturn running: the lab runs its own instances.
if command -v systemctl >/dev/null && [[ -d /run/systemd/system ]]; then
  systemctl disable --now coturn >/dev/null 2>&1 || true
elif [[ -x /etc/init.d/coturn ]]; then
  /etc/init.d/coturn stop >/dev/null 2>&1 || true
fi
if command -v update-rc.d >/dev/null && [[ -e /etc/init.d/coturn ]]; then
  update-rc.d coturn disable >/dev/null 2>&1 || true
fi
# A turnserver started by the service runs from /etc/turnserver.conf in the
# host's namespace; the lab's own instances run inside lab namespaces with
# explicit options. Stop only the service's one, found by its pid file.
for pidfile in /run/turnserver/turnserver.pid /var/run/turnserver.pid; do
  if [[ -s $pidfile ]]; then
    pid=$(cat "$pidfile")
    if [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      log "stopping system turnserver (pid $pid)"
      kill "$pid" 2>/dev/null || true
    fi
  fi
done

for bin in ip iptables ip6tables conntrack ping turnserver turnutils_stunclient turnutils_natdiscovery; do
  command -v "$bin" >/dev/null || { log "missing after install: $bin"; exit 1; }
done
log "ok"
