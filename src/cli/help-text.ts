// The help texts of `corolistener` and its commands, written by hand (they are the documented
// output: README and tests quote them); the defaults and environment variables come from the
// same specs the parser uses, so they cannot drift.
import { DEFAULT_SYNC_PORT } from '../cluster/config-sync';
import { DAEMON_OPTION_SPECS, DEFAULT_QUERY_TIMEOUT_MS, specOf, type CommandName, type DaemonOptions } from './option-specs';
import { HISTORY_HELP, OPERATE_HELP } from './help-operate';
import { MAX_SANDBOX_NODES } from './sandbox-args';

const EXIT_CODES = `Exit codes:
  0  success
  1  runtime failure: the command ran and failed (a file missing, unreadable or
     invalid; a daemon, corosync or sandbox error)
  2  usage error: the command line is wrong (an unknown command, option or action;
     a missing or bad value; a sandbox cluster or node that does not exist)
  3  unreachable: no corolistener daemon answers on the control socket
     (and, for -l, corosync cannot be read either, or the daemon that answers
     has no corosync connection)`;

function optionLines(keys: readonly (keyof DaemonOptions)[]): string {
  return keys
    .map((k) => {
      const s = specOf(k);
      return `  --${s.flag} PATH\n      ${s.help}\n      [${s.default}] env ${s.env}`;
    })
    .join('\n');
}

const TIMEOUT_LINE = `  --timeout MS\n      how long to wait for the daemon's answer [${DEFAULT_QUERY_TIMEOUT_MS}]`;

const HELP: Record<CommandName | 'main', string> = {
  main: `Usage: corolistener COMMAND [OPTIONS]

Reacts to corosync membership and quorum changes on VMmanager cloud nodes.

Commands:
  run                      run the daemon (in the foreground; systemd runs it)
  -l, list [--json]        print the cluster node list
  status [--json]          the running daemon's state and the node list
  config sync|show|check   fetch the newest corosync.conf from a peer / show / check it for risks
  sandbox ACTION           local multi-node corosync cluster in network namespaces
  demo                     3-node sandbox failover demonstration
  switchover NODEID        hand the master role over to NODEID (ordered, waits for it)
  prio set NODEID PRIO     set a node's priority (through the master)
  replication set NODEID on|off
                           set whether a node holds a replica (off: never master)
  standby NODEID on|off    a node in standby is never elected master
  maintenance on|off       cluster-wide: listeners watch but take no action
  node add|remove ...      add a node to the nodelist / remove one that is down
  history [--json]         the decisions this node's daemon took, with their effects
  help [COMMAND]           help on one command (also: COMMAND --help)
  --version                print the version

${EXIT_CODES}

Errors are printed as one line on stderr; the daemon's log has the details.`,
  run: `Usage: corolistener run [OPTIONS]

Runs the daemon: listens to corosync and carries out suspend / master / slave.
Each option is taken from its flag, else its environment variable (empty = unset),
else its default. Relative paths are resolved against the working directory.
SIGTERM stops it (effects stay as they are), SIGHUP reopens the log file.

Options:
${optionLines(DAEMON_OPTION_SPECS.map((s) => s.key))}
  --metrics HOST:PORT
      serve Prometheus metrics at http://HOST:PORT/metrics (corolistener_quorate,
      _role{role}, _master_nodeid, _members, _config_version, _decisions_total,
      _failovers_total, _step_duration_seconds{step,outcome}, _maintenance,
      _handover_gap_seconds); at most 8 connections, idle ones dropped after 5 s
      [off] env COROLISTENER_METRICS

The daemon also keeps STATE_DIR/history.jsonl (corolistener history) and runs
NotifyCommand from vmmgr.conf, if set, on every role change (argv, no shell; the
COROLISTENER_* environment plus COROLISTENER_OLD_ROLE and COROLISTENER_NEW_ROLE).

${EXIT_CODES}`,
  list: `Usage: corolistener -l [--json] [--socket PATH] [--corosync-conf PATH] [--timeout MS]
       corolistener list [same options]

Prints the node table (Id, Ip, Status, Master/Slave, Priority) as the running daemon
sees it, or straight from corosync when no daemon answers (none on the socket; or
it does not answer within --timeout, or answers with an error: then with a warning
line on stderr). Values wider than a column widen it; nothing is truncated. Unknown
role or priority is shown as "-". Roles read straight from corosync are computed
(the election over the members and priorities), not held by a daemon: a note on
stderr says so. A daemon without a corosync connection has no node list: exit 3.
When a node is in standby or the cluster is in maintenance, a Flags column follows
Priority (standby, maint) and a line under the table says maintenance is on; otherwise
the table is exactly the documented one.

Options:
  --json
      print the report as JSON: { cluster: { name, quorate, configVersion, expectedVotes,
      maintenance? }, localNodeId, masterNodeId, nodes: [{ id, ip, status, role, priority,
      replication, standby? }] } (maintenance and standby only when on)
${optionLines(['socket', 'corosyncConf'])}
${TIMEOUT_LINE}

${EXIT_CODES}`,
  status: `Usage: corolistener status [--json] [--socket PATH] [--timeout MS]

Asks the running daemon for its state (pid, start time, corosync connection, role)
and its node list.

Options:
  --json
      print { daemon, report } as JSON
${optionLines(['socket'])}
${TIMEOUT_LINE}

${EXIT_CODES}`,
  config: `Usage: corolistener config sync|show|check [OPTIONS]

  sync   before corosync starts: fetch the newest corosync.conf from any live peer
         of this node's nodelist (authenticated), verify it and install it if newer;
         with no peer reachable the file is left as it is (exit 0, with a warning).
         --from HOST: ask HOST only; a missing corosync.conf is created (a node just
         added to the nodelist bootstraps this way); no answer is exit 1
  show   print the cluster configuration as corolistener reads it
  check  warn about risky setups (exit 0 either way): two_node without a qdevice,
         no WatchdogDevice (self-fencing off), a watchdog that cannot be armed or
         whose timeout differs from WatchdogTimeout

Options:
  --json
      print as JSON
  --port PORT
      (sync) the peers' config sync port [${DEFAULT_SYNC_PORT}]
  --from HOST
      (sync) ask HOST only (a running node of the cluster)
  --timeout MS
      (sync) how long to wait for each peer [${DEFAULT_QUERY_TIMEOUT_MS}]
${optionLines(['corosyncConf', 'vmmgrConf', 'socket', 'keyFile'])}

${EXIT_CODES}`,
  sandbox: `Usage: corolistener sandbox ACTION [ARGS]

Real corosync clusters on this machine, one network namespace per node (needs root).
A cluster made by "up" outlives the command; remove it with "down".

Actions:
  up [--nodes SPEC] [--name NAME]
      create a cluster, start corosync on every node, wait until all are quorate;
      prints the cluster name and its nodes (name, netns, ip, corosync pid).
      SPEC is a node count (1..${MAX_SANDBOX_NODES}, nodeids 1..N) [3], or a list
      NODEID[:PRIO[:on|off]],... (prio [100], replication [on]), e.g. 2:99,4:100,8:98:off
      NAME: [a-z0-9][a-z0-9_-]* up to 32 characters [the cluster's random id]
  status [NAME] [--json]
      without NAME: list the clusters; with NAME: per node corosync pid, cut,
      quorate, members
  down [NAME | --all]
      stop everything and remove the namespaces (--all: every cluster made by "up",
      and leftovers of crashed runs)
  cut NODE                 partition NODE from the others (its link to the hub goes down)
  heal NODE                reconnect NODE
  kill NODE                kill corosync on NODE (SIGKILL, a crash)
  start NODE               start corosync on NODE again
  exec NODE [--] CMD...    run CMD inside NODE (its network and mount namespace) with
                           this terminal's stdin/stdout/stderr; exits with CMD's code
                           (128+N when killed by signal N)

NODE is a node name (n2) or nodeid (2). cut/heal/kill/start/exec take --cluster NAME
(before NODE for exec); without it they act on the only cluster made by "up" (if there
are several, naming one is required: exit code 2).

${EXIT_CODES}`,
  demo: `Usage: corolistener demo

Brings up a 3-node sandbox with a listener on each node, shows the node table, cuts the
master, shows the failover as it happens, heals, shows the table again, tears down.
Needs root (network namespaces).

${EXIT_CODES}`,
  ...OPERATE_HELP,
  history: HISTORY_HELP,
};

export function helpText(topic: CommandName | undefined): string {
  return `${HELP[topic ?? 'main']}\n`;
}
