// What a sandbox cluster is made of: the options a caller gives, their validation, and the
// fully resolved description (names, addresses, paths) that is written to disk before anything
// is created, so that a crash half-way through creation can still be cleaned up from it.
// Pure: no I/O here.
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { FAST_DETECTION } from '../config/detection-profile';

/** One node as the caller describes it. Everything but `nodeId` has a default. */
export interface NodeSpec {
  /** corosync nodeid (1..2^31-1). */
  nodeId: number;
  /** Node name (corosync `name:`, and how the API/CLI refers to it). Default `n<nodeId>`. */
  name?: string;
  /** `prio:` key of the nodelist entry. Default 100. */
  prio?: number;
  /** `replication:` key of the nodelist entry. Default true (`on`). */
  replication?: boolean;
  /** IPv4 address on the node's vmbr0, inside `subnet`. Default `<subnet>.<nodeId>` (nodeId <= 254). */
  address?: string;
}

export interface ClusterOptions {
  /** Node count (1..16, nodeids 1..N) or explicit node specs. Default 3. */
  nodes?: number | NodeSpec[];
  /** totem.token in milliseconds. Default 1000. */
  tokenMs?: number;
  /**
   * totem.token_coefficient in milliseconds: corosync adds it to the token timeout for every
   * node above two (its default, 650, makes a 3-node cluster's token 850 ms for token: 200).
   * Default: not written, corosync's default applies.
   */
  tokenCoefficientMs?: number;
  /** totem.token_retransmits_before_loss_const (a token under 130 ms needs fewer than corosync's 4). Default: not written. */
  tokenRetransmitsBeforeLoss?: number;
  /** totem.consensus in milliseconds (corosync: at least 1.2 x token). Default: not written, corosync's 1.2 x token. */
  consensusMs?: number;
  /**
   * knet's link pings (totem.interface: knet_ping_interval, knet_ping_timeout): a link is
   * declared down when no pong came within the timeout, and then needs pongs again, polled on
   * knet's own coarse timers (up to ~2 s here), before it carries traffic. A timeout longer than
   * a cut keeps knet out of short flaps: the membership changes come from totem's token loss
   * alone. Default: not written, corosync derives both from the token.
   */
  knetPing?: { intervalMs: number; timeoutMs: number };
  /** totem.config_version. Default 1. */
  configVersion?: number;
  /** totem.cluster_name. Default `VMmanager`. */
  clusterName?: string;
  /** First three octets of the /24 the nodes live on. Default `198.18.0` (benchmark range). */
  subnet?: string;
  /**
   * A persistent cluster outlives the process that created it (the CLI's `sandbox up`): no exit
   * handler tears it down and `cleanupStale()` leaves it alone; remove it with `destroy()`.
   */
  persistent?: boolean;
  /** Name to find the cluster by with `openCluster()`. Unique on the machine. Default: its id. */
  name?: string;
  /** Start corosync on every node once created. Default true. */
  start?: boolean;
  /** After starting, wait until every node is quorate with all nodes as members. Default true. */
  waitFormed?: boolean;
  /** Timeout for that wait in ms. Default 60000. */
  formTimeoutMs?: number;
  /**
   * Host directories processes in a node must still see although they lie under one of the
   * node's private directories (a checkout in /tmp would be hidden by the node's own /tmp).
   * Absolute paths. Default: this package's directory and the node binary's, where hidden.
   */
  keepVisible?: string[];
}

/** A node with every name and path resolved. Stored in the cluster's state file. */
export interface ResolvedNode {
  name: string;
  nodeId: number;
  prio: number;
  replication: boolean;
  address: string;
  /** Network namespace name (`ip netns` name; its file is /run/netns/<netns>). */
  netns: string;
  /** Hub-side veth of this node (in the hub namespace); down = node cut off. */
  hubVeth: string;
  /** Host path of the file holding the node's persistent mount namespace. */
  mountNsFile: string;
  /** Host directory holding this node's private directories (see NODE_MOUNTS). */
  dir: string;
}

export interface ResolvedCluster {
  id: string;
  name: string;
  persistent: boolean;
  tokenMs: number;
  /** Absent: corosync's default (older state files have none either). */
  tokenCoefficientMs?: number;
  /** Absent: corosync's default. */
  tokenRetransmitsBeforeLoss?: number;
  /** Absent: corosync's default. */
  consensusMs?: number;
  /** Absent: corosync's default. */
  knetPing?: { intervalMs: number; timeoutMs: number };
  configVersion: number;
  clusterName: string;
  subnet: string;
  hubNetns: string;
  /** Directory holding every cluster's state directory. */
  stateRoot: string;
  /** Host directory of this cluster's state. */
  dir: string;
  /** Directory (a private bind mount of itself) holding the mount namespace files. */
  nsDir: string;
  nodes: ResolvedNode[];
  /** Host directories bound into every node at the same path (see ClusterOptions.keepVisible). */
  keepVisible?: string[];
}

/** The cluster options of the fast detection profile (src/config/detection-profile.ts), for `createCluster`. */
export function fastDetectionOptions(): Pick<ClusterOptions, 'tokenMs' | 'tokenCoefficientMs' | 'tokenRetransmitsBeforeLoss' | 'consensusMs' | 'knetPing'> {
  const p = FAST_DETECTION;
  return {
    tokenMs: p.tokenMs,
    tokenCoefficientMs: p.tokenCoefficientMs,
    tokenRetransmitsBeforeLoss: p.tokenRetransmitsBeforeLoss,
    consensusMs: p.consensusMs,
    knetPing: { intervalMs: p.knetPingIntervalMs, timeoutMs: p.knetPingTimeoutMs },
  };
}

export const DEFAULT_STATE_ROOT = '/run/corolistener-sandbox';
export const MAX_NODES = 16;
/** Every sandbox netns is named `colsb-<id>-...`, which lets cleanup recognise orphans. */
export const NETNS_PREFIX = 'colsb-';
export const HUB_BRIDGE = 'hub0';
export const NODE_BRIDGE = 'vmbr0';
export const NODE_IFACE = 'eth0';
const IFNAMSIZ_MAX = 15;

/**
 * Directories each node gets privately, bind-mounted over the path corosync (or a daemon run in
 * the node) uses: corosync's pid file is in /run, its ring id files in /var/lib/corosync, its
 * configuration in /etc/corosync; /tmp holds VMmanager's lock files, which must not be shared
 * between nodes. `/run` comes last because the sources live under /run on the host and would be
 * hidden once it is covered.
 */
export const NODE_MOUNTS: ReadonlyArray<{ sub: string; target: string }> = [
  { sub: 'etc', target: '/etc/corosync' },
  { sub: 'lib', target: '/var/lib/corosync' },
  { sub: 'log', target: '/var/log/corosync' },
  { sub: 'tmp', target: '/tmp' },
  { sub: 'run', target: '/run' },
];

export class SandboxSpecError extends Error {
  constructor(field: string, message: string) {
    super(`sandbox options: ${field}: ${message}`);
    this.name = 'SandboxSpecError';
  }
}

const ID_RE = /^[0-9a-f]{6}$/;
const NODE_NAME_RE = /^[a-z][a-z0-9]{0,9}$/;
const CLUSTER_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const SUBNET_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

/** A short random cluster id (6 hex digits): unique enough for parallel test files. */
export function newClusterId(): string {
  return randomBytes(3).toString('hex');
}

export function isClusterId(s: string): boolean {
  return ID_RE.test(s);
}

/** `nodeName` is a node's name, or 'hub' for the namespace holding the bridge. */
export function netnsName(id: string, nodeName: string): string {
  return `${NETNS_PREFIX}${id}-${nodeName}`;
}

/** The cluster id in a sandbox netns name, or null when the name is not one of ours. */
export function clusterIdOfNetns(netns: string): string | null {
  const m = /^colsb-([0-9a-f]{6})-[a-z][a-z0-9]*$/.exec(netns);
  return m ? m[1]! : null;
}

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new SandboxSpecError(field, `must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  }
  return v;
}

function checkSubnet(subnet: string): string {
  const m = SUBNET_RE.exec(subnet);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) {
    throw new SandboxSpecError('subnet', `must be three octets like "198.18.0", got ${JSON.stringify(subnet)}`);
  }
  return subnet;
}

function nodeAddress(field: string, subnet: string, spec: NodeSpec): string {
  if (spec.address === undefined) {
    if (spec.nodeId > 254) {
      throw new SandboxSpecError(field, `nodeId ${spec.nodeId} > 254: give an explicit address`);
    }
    return `${subnet}.${spec.nodeId}`;
  }
  const m = /^(\d{1,3}\.\d{1,3}\.\d{1,3})\.(\d{1,3})$/.exec(spec.address);
  if (!m || m[1] !== subnet || Number(m[2]) < 1 || Number(m[2]) > 254) {
    throw new SandboxSpecError(`${field}.address`, `must be a host address in ${subnet}.0/24, got ${JSON.stringify(spec.address)}`);
  }
  return spec.address;
}

function nodeSpecs(nodes: ClusterOptions['nodes']): NodeSpec[] {
  if (nodes === undefined) return nodeSpecs(3);
  if (typeof nodes === 'number') {
    checkInt('nodes', nodes, 1, MAX_NODES);
    return Array.from({ length: nodes }, (_, i) => ({ nodeId: i + 1 }));
  }
  if (!Array.isArray(nodes) || nodes.length < 1 || nodes.length > MAX_NODES) {
    throw new SandboxSpecError('nodes', `must be 1..${MAX_NODES} node specs`);
  }
  return nodes;
}

function unique<T>(field: string, values: T[]): void {
  const seen = new Set<T>();
  for (const v of values) {
    if (seen.has(v)) throw new SandboxSpecError(field, `duplicate ${JSON.stringify(v)}`);
    seen.add(v);
  }
}

/** Validate options and resolve every name and path. Throws SandboxSpecError naming the field. */
export function resolveCluster(options: ClusterOptions, id: string = newClusterId(), stateRoot: string = DEFAULT_STATE_ROOT): ResolvedCluster {
  if (!isClusterId(id)) throw new SandboxSpecError('id', `must be 6 hex digits, got ${JSON.stringify(id)}`);
  const subnet = checkSubnet(options.subnet ?? '198.18.0');
  const name = options.name ?? id;
  if (!CLUSTER_NAME_RE.test(name)) {
    throw new SandboxSpecError('name', `must match ${CLUSTER_NAME_RE}, got ${JSON.stringify(name)}`);
  }
  const clusterName = options.clusterName ?? 'VMmanager';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(clusterName)) {
    throw new SandboxSpecError('clusterName', `must be 1..64 of [A-Za-z0-9_-], got ${JSON.stringify(clusterName)}`);
  }
  const dir = path.join(stateRoot, id);
  const nsDir = path.join(dir, 'ns');

  const specs = nodeSpecs(options.nodes);
  const nodes = specs.map((spec, i): ResolvedNode => {
    const field = `nodes[${i}]`;
    checkInt(`${field}.nodeId`, spec.nodeId, 1, 0x7fffffff);
    const nodeName = spec.name ?? `n${spec.nodeId}`;
    if (!NODE_NAME_RE.test(nodeName) || nodeName === 'hub') {
      throw new SandboxSpecError(`${field}.name`, `must match ${NODE_NAME_RE} and not be "hub", got ${JSON.stringify(nodeName)}`);
    }
    const prio = checkInt(`${field}.prio`, spec.prio ?? 100, 0, 0x7fffffff);
    if (spec.replication !== undefined && typeof spec.replication !== 'boolean') {
      throw new SandboxSpecError(`${field}.replication`, 'must be a boolean');
    }
    const hubVeth = `veth-${nodeName}`;
    if (hubVeth.length > IFNAMSIZ_MAX) throw new SandboxSpecError(`${field}.name`, 'too long for an interface name');
    return {
      name: nodeName,
      nodeId: spec.nodeId,
      prio,
      replication: spec.replication ?? true,
      address: nodeAddress(field, subnet, spec),
      netns: netnsName(id, nodeName),
      hubVeth,
      mountNsFile: path.join(nsDir, `${nodeName}.mnt`),
      dir: path.join(dir, 'nodes', nodeName),
    };
  });
  unique(
    'nodes[].nodeId',
    nodes.map((n) => n.nodeId),
  );
  unique(
    'nodes[].name',
    nodes.map((n) => n.name),
  );
  unique(
    'nodes[].address',
    nodes.map((n) => n.address),
  );

  return {
    id,
    name,
    persistent: options.persistent ?? false,
    tokenMs: checkInt('tokenMs', options.tokenMs ?? 1000, 100, 600_000),
    ...(options.tokenCoefficientMs === undefined ? {} : { tokenCoefficientMs: checkInt('tokenCoefficientMs', options.tokenCoefficientMs, 0, 600_000) }),
    ...(options.tokenRetransmitsBeforeLoss === undefined ? {} : { tokenRetransmitsBeforeLoss: checkInt('tokenRetransmitsBeforeLoss', options.tokenRetransmitsBeforeLoss, 1, 100) }),
    ...(options.consensusMs === undefined ? {} : { consensusMs: checkInt('consensusMs', options.consensusMs, 1, 600_000) }),
    ...(options.knetPing === undefined ? {} : { knetPing: resolveKnetPing(options.knetPing) }),
    configVersion: checkInt('configVersion', options.configVersion ?? 1, 0, 0xffffffff),
    clusterName,
    subnet,
    hubNetns: netnsName(id, 'hub'),
    stateRoot,
    dir,
    nsDir,
    nodes,
    keepVisible: resolveKeepVisible(options.keepVisible ?? defaultKeepVisible()),
  };
}

function resolveKnetPing(p: { intervalMs: number; timeoutMs: number }): { intervalMs: number; timeoutMs: number } {
  const intervalMs = checkInt('knetPing.intervalMs', p.intervalMs, 1, 600_000);
  const timeoutMs = checkInt('knetPing.timeoutMs', p.timeoutMs, 1, 600_000);
  if (timeoutMs <= intervalMs) throw new SandboxSpecError('knetPing.timeoutMs', `must be longer than knetPing.intervalMs (${intervalMs}), got ${timeoutMs}`);
  return { intervalMs, timeoutMs };
}

/** The node mount target hiding host path `p`, or undefined when nodes see `p` as the host does. */
export function hidingMount(p: string): string | undefined {
  return NODE_MOUNTS.find((m) => p === m.target || p.startsWith(m.target + '/'))?.target;
}

/**
 * What nodes must keep seeing by default: this package (its dist/ runs in nodes: listeners,
 * the fake VMmanager) and the node binary, when they lie under a private directory.
 */
export function defaultKeepVisible(): string[] {
  const candidates = [path.resolve(__dirname, '..', '..'), path.dirname(process.execPath)];
  return [...new Set(candidates)].filter((p) => hidingMount(p) !== undefined);
}

function resolveKeepVisible(paths: string[]): string[] {
  return paths.map((p, i) => {
    const field = `keepVisible[${i}]`;
    if (typeof p !== 'string' || !path.posix.isAbsolute(p)) throw new SandboxSpecError(field, `must be an absolute path, got ${JSON.stringify(p)}`);
    const norm = path.posix.normalize(p).replace(/\/+$/, '') || '/';
    const target = hidingMount(norm);
    if (target === norm) throw new SandboxSpecError(field, `${norm} is a node's private directory itself; it cannot be shared`);
    return norm;
  });
}

/** Host path of what a node sees at `insidePath` (one of its private directories). */
export function hostPathOf(node: ResolvedNode, insidePath: string): string {
  const p = path.posix.normalize(insidePath);
  // Longest target first: /run must not swallow /var/... and vice versa.
  for (const m of [...NODE_MOUNTS].sort((a, b) => b.target.length - a.target.length)) {
    if (p === m.target || p.startsWith(m.target + '/')) {
      return path.join(node.dir, m.sub, p.slice(m.target.length));
    }
  }
  throw new Error(`${insidePath} is not in a private directory of node ${node.name} (${NODE_MOUNTS.map((m) => m.target).join(', ')})`);
}

export function confPathOf(node: ResolvedNode): string {
  return hostPathOf(node, '/etc/corosync/corosync.conf');
}
