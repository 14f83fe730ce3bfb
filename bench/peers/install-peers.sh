#!/usr/bin/env bash
# Installs the peers `npm run bench -- peers` compares corolistener with (keepalived, Pacemaker
# with the IPaddr2 resource agent), only those missing, the way scripts/ensure-system-packages
# installs the project's own packages: one bounded wait for another apt/dpkg run
# (scripts/apt-lock-wait), then apt-get. Without recommends: fence agents and the like are not
# needed (fencing is off in the benchmark). Services are not started by the install where a
# policy-rc.d forbids it; either way the benchmark runs its own daemons inside sandbox nodes only.
# Usage: bash bench/peers/install-peers.sh
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
scripts=$(cd "$here/../../scripts" && pwd)
who=bench/peers
wanted=(keepalived pacemaker pacemaker-cli-utils resource-agents)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || exit 0
echo "$who: installing the peers: ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
apt_opts=(-q -o DPkg::Lock::Timeout=60)
bash "$scripts/apt-lock-wait" "$who"
echo "$who: apt-get update ..." >&2
$SUDO apt-get "${apt_opts[@]}" update 2>&1 | sed -un 's/^\(Err:.*\|E: .*\|W: .*\)/  \1/p' >&2
bash "$scripts/apt-lock-wait" "$who"
echo "$who: apt-get install --no-install-recommends ${missing[*]} ..." >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" 2>&1 |
  sed -un 's/^Setting up \([^ ]*\) .*/  set up \1/p; s/^\(E: .*\|W: .*\|Err:.*\)/  \1/p' >&2
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || { echo "$who: $p is still not installed after apt-get" >&2; exit 1; }
done
