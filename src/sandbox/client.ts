// A client of a sandbox cluster: a network namespace with one interface (eth0) on the hub
// bridge, like a machine on the cluster's LAN. Tests and the demo use it to reach the cluster
// IP from outside the nodes and to see which node's MAC address its neighbour (ARP) entry
// points to, i.e. where the address really moved to.
//
// Its namespace is named like the cluster's others (colsb-<id>-<name>), so the cluster's
// teardown finds and removes it with everything else, even after a crash.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { netnsPath, waitOperational } from './build';
import { runChecked, runCommand, type CommandResult, type RunOptions } from './command';
import { HUB_BRIDGE, NODE_IFACE, netnsName } from './spec';

/** What addClient() needs of a cluster (SandboxCluster provides it). */
export interface ClientHost {
  readonly id: string;
  readonly hubNetns: string;
  readonly subnet: string;
  readonly nodes: ReadonlyArray<{ name: string; address: string }>;
}

export interface ClientOptions {
  /** Namespace suffix and hub-side veth name (veth-<name>). Default `client`. */
  name?: string;
  /** Host address in the cluster's /24. Default `<subnet>.250`. */
  address?: string;
}

/** A neighbour (ARP) table entry, from `ip -j neigh`. */
export interface NeighbourEntry {
  dst: string;
  /** Lowercase MAC address; absent while the entry is INCOMPLETE/FAILED. */
  lladdr?: string;
  state: string[];
}

export interface PingResult {
  ok: boolean;
  stdout: string;
}

const CLIENT_NAME_RE = /^[a-z][a-z0-9]{0,9}$/;

export class SandboxClient {
  /** Use SandboxCluster.addClient() (or .client() for one that exists). */
  constructor(
    readonly name: string,
    readonly netns: string,
    readonly address: string,
    readonly hubVeth: string,
  ) {}

  get netnsPath(): string {
    return netnsPath(this.netns);
  }

  /** Interface of the client on the cluster's LAN. */
  get iface(): string {
    return NODE_IFACE;
  }

  private argv(argv: readonly string[]): string[] {
    return ['nsenter', `--net=${this.netnsPath}`, '--', ...argv];
  }

  /** Run argv in the client's network namespace (host files); never rejects on a non-zero exit. */
  exec(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
    return runCommand(this.argv(argv), opts);
  }

  /** Start argv in the client's network namespace (e.g. a long-running ping). */
  spawn(argv: readonly string[], opts: { stdio?: StdioOptions; env?: NodeJS.ProcessEnv; detached?: boolean } = {}): ChildProcess {
    const [file, ...args] = this.argv(argv);
    return spawn(file!, args, opts);
  }

  /** One ICMP echo to `ip`, waiting up to `timeoutS` whole seconds for the reply. */
  async ping(ip: string, timeoutS = 1): Promise<PingResult> {
    const r = await this.exec(['ping', '-n', '-c', '1', '-W', String(timeoutS), ip], { timeoutMs: (timeoutS + 5) * 1000 });
    return { ok: r.code === 0, stdout: r.stdout };
  }

  /** The client's neighbour entry for `ip`, or null when it has none. */
  async neighbour(ip: string): Promise<NeighbourEntry | null> {
    const out = await runChecked(this.argv(['ip', '-j', 'neigh', 'show', ip, 'dev', NODE_IFACE]));
    const entries = JSON.parse(out.trim() === '' ? '[]' : out) as Array<{ dst: string; lladdr?: string; state?: string[] }>;
    const e = entries.find((x) => x.dst === ip);
    if (!e) return null;
    return { dst: e.dst, lladdr: e.lladdr?.toLowerCase(), state: e.state ?? [] };
  }

  /** Forget the neighbour entry for `ip` (no-op when there is none). */
  async flushNeighbour(ip: string): Promise<void> {
    await this.exec(['ip', 'neigh', 'flush', 'to', ip, 'dev', NODE_IFACE]);
  }
}

function clientIdentity(host: ClientHost, opts: ClientOptions): { name: string; address: string; netns: string; hubVeth: string } {
  const name = opts.name ?? 'client';
  if (!CLIENT_NAME_RE.test(name) || name === 'hub' || host.nodes.some((n) => n.name === name)) {
    throw new Error(`sandbox client name ${JSON.stringify(name)}: must match ${CLIENT_NAME_RE} and not be "hub" or a node's name`);
  }
  const address = opts.address ?? `${host.subnet}.250`;
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m || m[1] !== host.subnet || Number(m[2]) < 1 || Number(m[2]) > 254) {
    throw new Error(`sandbox client address ${JSON.stringify(address)}: must be a host address in ${host.subnet}.0/24`);
  }
  const holder = host.nodes.find((n) => n.address === address);
  if (holder) throw new Error(`sandbox client address ${address} is node ${holder.name}'s`);
  return { name, address, netns: netnsName(host.id, name), hubVeth: `veth-${name}` };
}

/** Handle of client `name` of the cluster, whether or not it exists yet. */
export function clientOf(host: ClientHost, opts: ClientOptions = {}): SandboxClient {
  const id = clientIdentity(host, opts);
  return new SandboxClient(id.name, id.netns, id.address, id.hubVeth);
}

/** Create a client namespace on the cluster's hub. On failure nothing of it is left. */
export async function addClient(host: ClientHost, opts: ClientOptions = {}): Promise<SandboxClient> {
  const c = clientOf(host, opts);
  const hub = ['ip', '-n', host.hubNetns];
  const inClient = ['ip', '-n', c.netns];
  await runChecked(['ip', 'netns', 'add', c.netns]);
  try {
    await runChecked([...inClient, 'link', 'set', 'lo', 'up']);
    // Peer created straight into the client namespace, as for nodes (see ./build).
    await runChecked([...hub, 'link', 'add', c.hubVeth, 'type', 'veth', 'peer', 'name', NODE_IFACE, 'netns', c.netns]);
    await runChecked([...hub, 'link', 'set', c.hubVeth, 'master', HUB_BRIDGE, 'up']);
    await runChecked([...inClient, 'addr', 'add', `${c.address}/24`, 'dev', NODE_IFACE]);
    await runChecked([...inClient, 'link', 'set', NODE_IFACE, 'up']);
    await Promise.all([waitOperational(c.netns, [NODE_IFACE]), waitOperational(host.hubNetns, [c.hubVeth])]);
  } catch (e) {
    await runCommand(['ip', 'netns', 'delete', c.netns]);
    await runCommand([...hub, 'link', 'delete', c.hubVeth]);
    throw e;
  }
  return c;
}
