#!/usr/bin/env bash
# The Debian packages the lab needs (and, with --tests, what the test suite needs besides).
# Installs only what is missing; needs root for that.
set -euo pipefail

packages=(postgresql openssh-server haproxy pdns-server pdns-backend-sqlite3 sqlite3 iptables pgbackrest)
# chromium: the report tests open report.html in a real headless browser.
# python3-psycopg2: the independent client that cross-checks the drill probe (libpq, not node-pg).
# patroni, etcd-server, etcd-client: the Patroni lab (lab up --ha patroni) its tests bring up.
# prometheus, prometheus-alertmanager, prometheus-postgres-exporter: lab up --monitoring.
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium python3-psycopg2 patroni etcd-server etcd-client)
  packages+=(prometheus prometheus-alertmanager prometheus-postgres-exporter)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "drillbook needs these Debian packages: ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})" >&2
  exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "${missing[@]}" >/dev/null
