// What `corolistener`'s command line is made of: the exit codes, the usage error, the daemon's
// path options (flag, environment variable, default) and the typed Command a parse yields.
// Shared by the parser (./options.ts) and the help texts (./help-text.ts).
import type { NodeSpec } from '../sandbox/spec';
import { DEFAULT_AUTHKEY_FILE } from '../cluster/cluster-key';

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

export function specOf(key: keyof DaemonOptions): PathOptionSpec {
  return DAEMON_OPTION_SPECS.find((s) => s.key === key)!;
}

export const SANDBOX_ACTIONS = ['up', 'down', 'status', 'cut', 'heal', 'kill', 'start', 'exec'] as const;
export type SandboxAction = (typeof SANDBOX_ACTIONS)[number];
export const CONFIG_ACTIONS = ['sync', 'show', 'check'] as const;
export type ConfigAction = (typeof CONFIG_ACTIONS)[number];

/** How long `-l` and `status` wait for the daemon's answer. */
export const DEFAULT_QUERY_TIMEOUT_MS = 3000;

export type Command =
  | { name: 'help'; topic: CommandName | undefined }
  | { name: 'version' }
  | {
      name: 'run';
      options: DaemonOptions;
      /** `--metrics HOST:PORT` / COROLISTENER_METRICS: serve Prometheus metrics there (default: off). */
      metrics?: { host: string; port: number };
    }
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
      /** sync: `--from HOST`, ask this host only; a missing corosync.conf is created (a new node). */
      from?: string;
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
  | { name: 'demo' }
  | {
      /** Operating the cluster (issue 18): an operator command for the master, over the control socket. */
      name: OperateName;
      /** The command's words, as the daemon parses them (src/engine/operator-command.ts), e.g. ['prio', 'set', '4', '120']. */
      words: string[];
      socket: string;
      /** How long to wait for the daemon's answer (a switchover: for the new master). */
      timeoutMs: number;
      json: boolean;
    }
  | {
      name: 'history';
      json: boolean;
      /** Only entries at or after this time (ms since the epoch). */
      since: number | undefined;
      stateDir: string;
    };

/** The operator commands (issue 18), each also a help topic. */
export const OPERATE_NAMES = ['switchover', 'prio', 'replication', 'standby', 'maintenance', 'node'] as const;
export type OperateName = (typeof OPERATE_NAMES)[number];

/** How long an operator command waits for the daemon (a switchover: the new master) by default. */
export const DEFAULT_OPERATE_TIMEOUT_MS = 60_000;

export type CommandName = Exclude<Command['name'], 'help' | 'version'>;
export const COMMAND_NAMES: readonly CommandName[] = ['run', 'list', 'status', 'config', 'sandbox', 'demo', ...OPERATE_NAMES, 'history'];
