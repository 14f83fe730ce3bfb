// Command-line parsing for `corolistener` (node:util parseArgs; no dependency). Turns argv
// and the environment into one typed Command, or throws a UsageError (exit code 2) whose
// message is the one line printed to stderr. The help texts are generated from the same
// tables, so documented defaults and environment variables cannot drift from the parser.
import { resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DEFAULT_AUTHKEY_FILE } from '../cluster/cluster-key';
import { DEFAULT_SYNC_PORT } from '../cluster/config-sync';
import type { NodeSpec } from '../sandbox/spec';
import { MAX_SANDBOX_NODES, NodesOptionError, parseNodesOption } from './sandbox-args';

/** Exit codes, documented in the help text. */
export const EXIT = {
  OK: 0,
  /** The command ran and failed (a runtime error, a daemon error). */
  FAILURE: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** Nothing to ask: no daemon answers on the socket (and corosync cannot be read). */
  UNREACHABLE: 3,
} as const;

export class UsageError extends Error {
  constructor(
    message: string,
    /** The command whose help explains the mistake. */
    readonly topic?: CommandName,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

export interface DaemonOptions {
  corosyncConf: string;
  /** The cluster key file (config distribution and config sync, src/cluster/cluster-key.ts). */
  keyFile: string;
  vmmgrConf: string;
  log: string;
  lockDir: string;
  stateDir: string;
  socket: string;
}

interface PathOptionSpec {
  key: keyof DaemonOptions;
  flag: string;
  env: string;
  default: string;
  help: string;
}

/** Daemon paths: flag, else environment variable (ignored when empty), else default. */
export const DAEMON_OPTION_SPECS: readonly PathOptionSpec[] = [
  {
    key: 'corosyncConf',
    flag: 'corosync-conf',
    env: 'COROLISTENER_COROSYNC_CONF',
    default: '/etc/corosync/corosync.conf',
    help: 'corosync configuration (nodelist, prio, replication)',
  },
  {
    key: 'keyFile',
    flag: 'key',
    env: 'COROLISTENER_KEY',
    default: DEFAULT_AUTHKEY_FILE,
    help: 'cluster key file, the same on every node (authenticates config distribution and config sync)',
  },
  {
    key: 'vmmgrConf',
    flag: 'vmmgr-conf',
    env: 'COROLISTENER_VMMGR_CONF',
    default: '/usr/local/mgr5/etc/vmmgr.conf',
    help: 'VMmanager configuration (CloudIp, CloudIpDev, CloudMask, commands)',
  },
  {
    key: 'log',
    flag: 'log',
    env: 'COROLISTENER_LOG',
    default: '/usr/local/mgr5/var/corolistener.log',
    help: 'log file, pino JSON lines (reopened on SIGHUP)',
  },
  {
    key: 'lockDir',
    flag: 'lock-dir',
    env: 'COROLISTENER_LOCK_DIR',
    default: '/tmp',
    help: 'directory of .lock.vmmgr.service and .lock.vmmgr.relocated',
  },
  {
    key: 'stateDir',
    flag: 'state-dir',
    env: 'COROLISTENER_STATE_DIR',
    default: '/usr/local/mgr5/var/corolistener',
    help: 'state kept across daemon restarts (last role, suspended VMs)',
  },
  {
    key: 'socket',
    flag: 'socket',
    env: 'COROLISTENER_SOCKET',
    default: '/run/corolistener.sock',
    help: 'control socket (unix, root-only)',
  },
];

function specOf(key: keyof DaemonOptions): PathOptionSpec {
  return DAEMON_OPTION_SPECS.find((s) => s.key === key)!;
}

export const SANDBOX_ACTIONS = ['up', 'down', 'status', 'cut', 'heal', 'kill', 'start', 'exec'] as const;
export type SandboxAction = (typeof SANDBOX_ACTIONS)[number];
export const CONFIG_ACTIONS = ['sync', 'show'] as const;
export type ConfigAction = (typeof CONFIG_ACTIONS)[number];

/** How long `-l` and `status` wait for the daemon's answer. */
export const DEFAULT_QUERY_TIMEOUT_MS = 3000;

export type Command =
  | { name: 'help'; topic: CommandName | undefined }
  | { name: 'version' }
  | { name: 'run'; options: DaemonOptions }
  | { name: 'list'; json: boolean; socket: string; corosyncConf: string; timeoutMs: number }
  | { name: 'status'; json: boolean; socket: string; timeoutMs: number }
  | {
      name: 'config';
      action: ConfigAction;
      json: boolean;
      corosyncConf: string;
      vmmgrConf: string;
      socket: string;
      /** sync: the cluster key file (`--key`), default /etc/corosync/authkey. */
      keyFile: string;
      /** sync: the peers' config sync port (`--port`). */
      port: number;
      /** sync: how long to wait for each peer. */
      timeoutMs: number;
    }
  | {
      name: 'sandbox';
      action: SandboxAction;
      /** cut/heal/kill/start: [NODE]; exec: [NODE, ...COMMAND]; otherwise empty. */
      args: string[];
      /** The cluster acted on (`--cluster`, the NAME of down/status), or created (`up --name`). */
      cluster: string | undefined;
      /** `up --nodes`: a count or explicit node specs. */
      nodes: number | NodeSpec[] | undefined;
      /** `down --all`. */
      all: boolean;
      /** `status --json`. */
      json: boolean;
    }
  | { name: 'demo' };

export type CommandName = Exclude<Command['name'], 'help' | 'version'>;
export const COMMAND_NAMES: readonly CommandName[] = ['run', 'list', 'status', 'config', 'sandbox', 'demo'];

type Env = Record<string, string | undefined>;
type OptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION: OptionsConfig = { help: { type: 'boolean', short: 'h' } };
const JSON_OPTION: OptionsConfig = { json: { type: 'boolean' } };
const TIMEOUT_OPTION: OptionsConfig = { timeout: { type: 'string' } };

function pathOptions(...keys: (keyof DaemonOptions)[]): OptionsConfig {
  return Object.fromEntries(keys.map((k) => [specOf(k).flag, { type: 'string' as const }]));
}

function parse(tokens: string[], options: OptionsConfig, topic: CommandName | undefined, positionals = false) {
  try {
    return parseArgs({ args: tokens, options, strict: true, allowPositionals: positionals });
  } catch (err) {
    // parseArgs messages are already one clear line ("Unknown option '--x'...").
    throw new UsageError((err as Error).message, topic);
  }
}

function pathValue(key: keyof DaemonOptions, flagValue: unknown, env: Env, topic: CommandName): string {
  const spec = specOf(key);
  if (typeof flagValue === 'string') {
    if (flagValue === '') throw new UsageError(`--${spec.flag} must not be empty`, topic);
    return resolve(flagValue);
  }
  const fromEnv = env[spec.env];
  // An empty variable counts as unset (`export VAR=` is a common way to clear one).
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default);
}

function timeoutValue(flagValue: string | boolean | (string | boolean)[] | undefined, topic: CommandName): number {
  if (flagValue === undefined) return DEFAULT_QUERY_TIMEOUT_MS;
  const text = String(flagValue);
  if (!/^[1-9][0-9]{0,6}$/.test(text)) {
    throw new UsageError(`--timeout must be a number of milliseconds (1..9999999), got ${JSON.stringify(text)}`, topic);
  }
  return Number(text);
}

function noPositionals(positionals: string[], topic: CommandName): void {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`, topic);
}

function parseList(tokens: string[], env: Env): Command {
  const { values, positionals } = parse(
    tokens,
    { ...HELP_OPTION, l: { type: 'boolean' }, list: { type: 'boolean' }, ...JSON_OPTION, ...TIMEOUT_OPTION, ...pathOptions('socket', 'corosyncConf') },
    'list',
    true,
  );
  if (values.help) return { name: 'help', topic: 'list' };
  noPositionals(positionals, 'list');
  return {
    name: 'list',
    json: values.json === true,
    socket: pathValue('socket', values.socket, env, 'list'),
    corosyncConf: pathValue('corosyncConf', values['corosync-conf'], env, 'list'),
    timeoutMs: timeoutValue(values.timeout, 'list'),
  };
}

/** Options of each sandbox action but exec (whose argv after the node is not ours to parse). */
const SANDBOX_ACTION_OPTIONS: Record<Exclude<SandboxAction, 'exec'>, OptionsConfig> = {
  up: { nodes: { type: 'string' }, name: { type: 'string' } },
  down: { all: { type: 'boolean' }, cluster: { type: 'string' } },
  status: { ...JSON_OPTION, cluster: { type: 'string' } },
  cut: { cluster: { type: 'string' } },
  heal: { cluster: { type: 'string' } },
  kill: { cluster: { type: 'string' } },
  start: { cluster: { type: 'string' } },
};

function sandboxUsage(message: string): UsageError {
  return new UsageError(message, 'sandbox');
}

function clusterValue(value: string | boolean | (string | boolean)[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw sandboxUsage('--cluster must not be empty');
  return String(value);
}

/** `sandbox exec [--cluster NAME] NODE [--] COMMAND [ARGS...]`: options only before NODE. */
function parseSandboxExec(rest: string[]): Command {
  let cluster: string | undefined;
  let i = 0;
  for (; i < rest.length; i++) {
    const token = rest[i]!;
    if (token === '--help' || token === '-h') return { name: 'help', topic: 'sandbox' };
    if (token === '--cluster') cluster = clusterValue(rest[++i] ?? '');
    else if (token.startsWith('--cluster=')) cluster = clusterValue(token.slice('--cluster='.length));
    else break;
  }
  // Everything after the node is the command's own argv (it may have options of its own),
  // passed on untouched.
  const [node, ...command] = rest.slice(i);
  const argv = command[0] === '--' ? command.slice(1) : command;
  if (node === undefined || node.startsWith('-') || argv.length === 0) {
    throw sandboxUsage('usage: corolistener sandbox exec [--cluster NAME] NODE [--] COMMAND [ARGS...]');
  }
  return { name: 'sandbox', action: 'exec', args: [node, ...argv], cluster, nodes: undefined, all: false, json: false };
}

function parseSandbox(tokens: string[]): Command {
  const [action, ...rest] = tokens;
  if (action === undefined || action === '--help' || action === '-h') return { name: 'help', topic: 'sandbox' };
  if (!(SANDBOX_ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown sandbox action ${JSON.stringify(action)}; one of: ${SANDBOX_ACTIONS.join(', ')}`, 'sandbox');
  }
  if (action === 'exec') return parseSandboxExec(rest);
  const a = action as Exclude<SandboxAction, 'exec'>;
  const { values, positionals } = parse(rest, { ...HELP_OPTION, ...SANDBOX_ACTION_OPTIONS[a] }, 'sandbox', true);
  if (values.help) return { name: 'help', topic: 'sandbox' };
  let cluster = clusterValue(values.cluster);
  let nodes: number | NodeSpec[] | undefined;
  let args: string[] = [];
  switch (a) {
    case 'up':
      noPositionals(positionals, 'sandbox');
      if (values.name !== undefined) cluster = String(values.name);
      if (values.nodes !== undefined) {
        try {
          nodes = parseNodesOption(String(values.nodes));
        } catch (err) {
          if (err instanceof NodesOptionError) throw sandboxUsage(err.message);
          throw err;
        }
      }
      break;
    case 'down':
    case 'status':
      // The cluster may be given as `NAME` or `--cluster NAME`.
      if (positionals.length > 1) throw sandboxUsage(`unexpected argument ${JSON.stringify(positionals[1])}`);
      if (positionals[0] !== undefined) {
        if (cluster !== undefined) throw sandboxUsage('give the cluster once: NAME or --cluster NAME');
        cluster = positionals[0];
      }
      if (values.all === true && cluster !== undefined) throw sandboxUsage('--all and a cluster name exclude each other');
      break;
    default:
      if (positionals.length !== 1) throw sandboxUsage(`usage: corolistener sandbox ${a} NODE [--cluster NAME]`);
      args = positionals;
  }
  return { name: 'sandbox', action: a, args, cluster, nodes, all: values.all === true, json: values.json === true };
}

function parseConfig(tokens: string[], env: Env): Command {
  const [action, ...rest] = tokens;
  if (action === undefined || action === '--help' || action === '-h') return { name: 'help', topic: 'config' };
  if (!(CONFIG_ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown config action ${JSON.stringify(action)}; one of: ${CONFIG_ACTIONS.join(', ')}`, 'config');
  }
  const { values, positionals } = parse(
    rest,
    { ...HELP_OPTION, ...JSON_OPTION, ...TIMEOUT_OPTION, port: { type: 'string' }, ...pathOptions('corosyncConf', 'vmmgrConf', 'socket', 'keyFile') },
    'config',
    true,
  );
  if (values.help) return { name: 'help', topic: 'config' };
  noPositionals(positionals, 'config');
  const port = values.port === undefined ? String(DEFAULT_SYNC_PORT) : String(values.port);
  if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
    throw new UsageError(`--port must be a TCP port (1..65535), got ${JSON.stringify(port)}`, 'config');
  }
  return {
    name: 'config',
    action: action as ConfigAction,
    json: values.json === true,
    corosyncConf: pathValue('corosyncConf', values['corosync-conf'], env, 'config'),
    vmmgrConf: pathValue('vmmgrConf', values['vmmgr-conf'], env, 'config'),
    socket: pathValue('socket', values.socket, env, 'config'),
    keyFile: pathValue('keyFile', values.key, env, 'config'),
    port: Number(port),
    timeoutMs: timeoutValue(values.timeout, 'config'),
  };
}

/** Parses `corolistener ARGV...` (argv without node and script). Throws UsageError. */
export function parseCommandLine(argv: readonly string[], env: Env): Command {
  const [first, ...rest] = argv;
  switch (first) {
    case undefined:
      return { name: 'help', topic: undefined };
    case 'help': {
      const topic = rest[0] === '-l' ? 'list' : rest[0];
      if (topic === undefined) return { name: 'help', topic: undefined };
      if (!(COMMAND_NAMES as readonly string[]).includes(topic)) throw new UsageError(`no help for ${JSON.stringify(topic)}`);
      return { name: 'help', topic: topic as CommandName };
    }
    case 'run': {
      const { values, positionals } = parse(
        rest,
        { ...HELP_OPTION, ...pathOptions(...DAEMON_OPTION_SPECS.map((s) => s.key)) },
        'run',
        true,
      );
      if (values.help) return { name: 'help', topic: 'run' };
      noPositionals(positionals, 'run');
      const options = Object.fromEntries(
        DAEMON_OPTION_SPECS.map((s) => [s.key, pathValue(s.key, values[s.flag], env, 'run')]),
      ) as unknown as DaemonOptions;
      return { name: 'run', options };
    }
    case 'list':
      return parseList(rest, env);
    case 'status': {
      const { values, positionals } = parse(
        rest,
        { ...HELP_OPTION, ...JSON_OPTION, ...TIMEOUT_OPTION, ...pathOptions('socket') },
        'status',
        true,
      );
      if (values.help) return { name: 'help', topic: 'status' };
      noPositionals(positionals, 'status');
      return {
        name: 'status',
        json: values.json === true,
        socket: pathValue('socket', values.socket, env, 'status'),
        timeoutMs: timeoutValue(values.timeout, 'status'),
      };
    }
    case 'config':
      return parseConfig(rest, env);
    case 'sandbox':
      return parseSandbox(rest);
    case 'demo': {
      const { values, positionals } = parse(rest, HELP_OPTION, 'demo', true);
      if (values.help) return { name: 'help', topic: 'demo' };
      noPositionals(positionals, 'demo');
      return { name: 'demo' };
    }
    default:
      break;
  }
  if (!first.startsWith('-')) throw new UsageError(`unknown command ${JSON.stringify(first)}`);
  // Options first: `corolistener -l [--json] [--socket PATH]`, `--help`, `--version`.
  if (argv.includes('-l') || argv.includes('--list')) return parseList([...argv], env);
  const { values, positionals } = parse([...argv], { ...HELP_OPTION, version: { type: 'boolean', short: 'V' } }, undefined, true);
  if (values.version) return { name: 'version' };
  if (values.help) return { name: 'help', topic: undefined };
  throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
}

// ---------------------------------------------------------------------------------------
// Help texts

const EXIT_CODES = `Exit codes:
  0  success
  1  runtime failure (the command ran and failed)
  2  usage error (wrong command line)
  3  unreachable: no corolistener daemon answers on the control socket
     (and, for -l, corosync cannot be read either)`;

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
  config sync|show         fetch the newest corosync.conf from a peer / show the configuration
  sandbox ACTION           local multi-node corosync cluster in network namespaces
  demo                     3-node sandbox failover demonstration
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

${EXIT_CODES}`,
  list: `Usage: corolistener -l [--json] [--socket PATH] [--corosync-conf PATH] [--timeout MS]
       corolistener list [same options]

Prints the node table (Id, Ip, Status, Master/Slave, Priority) as the running daemon
sees it, or straight from corosync when no daemon answers (none on the socket; or
it does not answer within --timeout, or answers with an error: then with a warning
line on stderr). Values wider than a column widen it; nothing is truncated. Unknown
role or priority is shown as "-".

Options:
  --json
      print the report as JSON: { cluster: { name, quorate, configVersion, expectedVotes },
      localNodeId, masterNodeId, nodes: [{ id, ip, status, role, priority, replication }] }
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
  config: `Usage: corolistener config sync|show [OPTIONS]

  sync   before corosync starts: fetch the newest corosync.conf from any live peer
         of this node's nodelist (authenticated), verify it and install it if newer;
         with no peer reachable the file is left as it is (exit 0, with a warning)
  show   print the cluster configuration as corolistener reads it

Options:
  --json
      print as JSON
  --port PORT
      (sync) the peers' config sync port [${DEFAULT_SYNC_PORT}]
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
};

export function helpText(topic: CommandName | undefined): string {
  return `${HELP[topic ?? 'main']}\n`;
}
