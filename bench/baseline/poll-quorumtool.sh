#!/bin/bash
# The baseline corolistener is measured against: the usual home-made failover script. Once a
# second it asks `corosync-quorumtool -s` whether the node is quorate and who the members are;
# the quorate member with the highest priority (ties: lowest nodeid) takes the cluster IP,
# announces it with a gratuitous ARP and starts the service, the same actions corolistener
# takes. Written plainly, as such scripts are; it is only ever run inside sandbox nodes.
#
# Usage: poll-quorumtool.sh LOG IP PREFIX DEV PRIOS START_COMMAND [ARGS...]
#   PRIOS  nodeid:prio pairs, comma-separated (the nodelist's prio keys), e.g. 1:100,2:99,3:98
# LOG gets one line per action: "<unix time, µs> <event> [detail]", events: started, master,
# ip-added, arp-sent, service-started, released. Stops on SIGTERM.
set -u
if [ $# -lt 6 ]; then
  echo "usage: $0 LOG IP PREFIX DEV PRIOS START_COMMAND [ARGS...]" >&2
  exit 2
fi
log=$1 ip=$2 prefix=$3 dev=$4 prios=$5
shift 5

declare -A prio
IFS=, read -ra pairs <<<"$prios"
for pair in "${pairs[@]}"; do prio[${pair%%:*}]=${pair##*:}; done

note() { printf '%s %s\n' "$EPOCHREALTIME" "$*" >>"$log"; }
trap 'exit 0' TERM INT

master=0
note started
while true; do
  out=$(corosync-quorumtool -s 2>/dev/null)
  self=$(awk '/^Node ID:/ {print $3}' <<<"$out")
  best=
  if grep -q '^Quorate: *Yes' <<<"$out"; then
    for id in $(awk '/^ *Nodeid +Votes/ {m=1; next} m && $1 ~ /^[0-9]+$/ {print $1}' <<<"$out"); do
      p=${prio[$id]:-0}
      if [ -z "$best" ] || [ "$p" -gt "${prio[$best]:-0}" ] || { [ "$p" -eq "${prio[$best]:-0}" ] && [ "$id" -lt "$best" ]; }; then
        best=$id
      fi
    done
  fi
  if [ -n "$best" ] && [ "$best" = "$self" ]; then
    if [ $master -eq 0 ]; then
      master=1
      note master "$self"
      ip addr replace "$ip/$prefix" dev "$dev" && note ip-added
      arping -q -U -c 1 -I "$dev" "$ip" &
      note arp-sent
      "$@" &
      note service-started
    fi
  elif [ $master -eq 1 ]; then
    master=0
    ip addr del "$ip/$prefix" dev "$dev" 2>/dev/null
    note released
  fi
  sleep 1
done
