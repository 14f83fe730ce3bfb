// Help texts of the operator commands (issue 18); help-text.ts adds the exit codes and options.
import type { OperateName } from './option-specs';

const OPERATE_EXIT = `Exit codes:
  0  done (for a change that moves the master role: the new master holds it and
     every member has the new corosync.conf)
  1  refused or failed, with one line saying why (e.g. the node is not a member;
     no eligible member would be left; no answer in --timeout)
  2  usage error: the command line is wrong (a bad node id, prio or on|off)
  3  unreachable: no corolistener daemon answers on the control socket`;

const COMMON = `Sent to the local daemon (control socket). The master writes the change (without one,
e.g. when the master was cut off during maintenance: the lowest node holding the
newest corosync.conf); another node forwards the command to it over CPG, signed with
the cluster key, and prints its answer (without a readable key it answers which node
to run it on, exit 1). The master
writes corosync.conf with a new config_version (validated, corosync -t, atomically),
corosync reloads it and it is distributed to every member, signed with the cluster key,
as a takeover's priority raise is. A change that moves the master role is an ordered
hand-over: the old master drops the cluster IP, stops VMmanager and removes its locks,
then announces its release; the new master takes over only then (at most 30 s later
if the release never comes), so there are never two holders of the cluster IP.`;

const OPTIONS = `Options:
  --timeout MS
      how long to wait for the daemon's answer (a moved role: for the new master) [60000]
  --json
      print the daemon's answer as JSON: { ok, message, configVersion?, handover? }
  --socket PATH
      control socket (unix, root-only)
      [/run/corolistener.sock] env COROLISTENER_SOCKET`;

export const OPERATE_HELP: Record<OperateName, string> = {
  node: '',
  switchover: `Usage: corolistener switchover NODEID [--timeout MS] [--json] [--socket PATH]

Planned hand-over of the master role to NODEID, a quorate member that can be master
(in the nodelist, replication on, not in standby, a prio, the newest corosync.conf).
Its prio is set one above every other node's (it stays master: sticky). Prints the
new master, the config_version and the time with no holder of the cluster IP, measured
by the two nodes (the old master's time from dropping it to announcing its release,
plus the new master's from that announcement to holding it).

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`,
  prio: `Usage: corolistener prio set NODEID PRIO [--timeout MS] [--json] [--socket PATH]

Sets NODEID's prio (an integer 0 or more) in corosync.conf. If the new priorities elect
another master, the role moves by the ordered hand-over and the command waits for it.
Refused if no member could be master afterwards.

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`,
  replication: `Usage: corolistener replication set NODEID on|off [--timeout MS] [--json] [--socket PATH]

Sets NODEID's replication (off: it holds no replica of VMmanager's database and is never
master). Turning it off on the master moves the role by the ordered hand-over. Refused if
no member could be master afterwards.

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`,
  standby: `Usage: corolistener standby NODEID on|off [--timeout MS] [--json] [--socket PATH]

Standby (standby: on in NODEID's nodelist entry): the node is never elected master; its
own VMs keep running while the cluster has quorum. Standby of the master hands the role
to the next node first (the ordered hand-over). Shown in -l (Flags column: standby) and
status. Refused if no member could be master afterwards.

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`,
  maintenance: `Usage: corolistener maintenance on|off [--force] [--timeout MS] [--json] [--socket PATH]

Maintenance mode, cluster-wide (corolistener { maintenance: on } in corosync.conf, so it
survives restarts of listeners and nodes): every listener keeps watching and logs what it
would do (decision lines say "maintenance, would be ..."), but takes no action: no cluster
IP move, no suspend, no resume or restore, no priority raise. Only corosync.conf is still
read and handed to members that lack it. Shown in -l (Flags column: maint, and a line under
the table) and status. "off" reconciles: each listener acts on the cluster as it is then.

"off" is refused while a node of the nodelist is not in this partition: cut off during
maintenance it suspended nothing and may still run its VMs (and, a master, hold the
cluster IP); ending maintenance without it would restore its VMs a second time. Bring it
back first, or give --force once you know it is down.

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`,
};

const NODE_HELP = `Usage: corolistener node add NODEID ADDRESS [--prio P] [--replication on|off] [--name NAME]
       corolistener node remove NODEID
       [--timeout MS] [--json] [--socket PATH]

  add     a node section in the nodelist (ring0_addr ADDRESS, nodeid NODEID, name, prio
          and replication when given; give --name when the other nodes have names, as
          corosync-quorumtool shows them); quorum.expected_votes is raised by one where set.
          Then, on the new node: corolistener config sync --from HOST (any running node),
          which creates its corosync.conf, then start corosync and corolistener.
  remove  the node's section, expected_votes lowered where set. Refused for the master
          (switch over first) and for a node that is still a member (stop its corosync and
          corolistener first).

${COMMON}

${OPTIONS}

${OPERATE_EXIT}`;

export const HISTORY_HELP = `Usage: corolistener history [--json] [--since TIME] [--state-dir PATH]

The decisions this node's daemon took, oldest first: time, role (and the change), the
master, the membership and quorum, what triggered it, the engine's explanation, and each
effect with its outcome, duration and attempts. Kept in STATE_DIR/history.jsonl (the last
10,000 entries), so it survives restarts and is read without a daemon.

Options:
  --json
      one JSON object per line: { kind: "decision", time, seq, run, trigger, quorate,
      members, role, previousRole, master, maintenance, explanation, effects } and
      { kind: "step", time, seq, run, effect, outcome, durationMs, attempts, error? }
  --since TIME
      only entries from TIME on: ISO 8601 (2026-12-05T03:12:00Z) or a duration back
      from now (90s, 30m, 2h, 7d)
  --state-dir PATH
      the daemon's state directory
      [/usr/local/mgr5/var/corolistener] env COROLISTENER_STATE_DIR

Exit codes:
  0  success (also when nothing is recorded yet)
  1  the history file cannot be read
  2  usage error`;

OPERATE_HELP.node = NODE_HELP;
