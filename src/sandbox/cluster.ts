// SandboxCluster: a real corosync cluster on this machine, one network namespace per node.
// Create with createCluster(), re-attach from another process with openCluster(), enumerate
// with listClusters(). Nodes are referred to by name ('n2') or nodeid (2).
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runChecked, runCommand, type CommandResult, type RunOptions } from './command';
import { NODE_LOG_FILE, renderCorosyncConf } from './conf';
import { buildCluster, netnsPath, waitClusterNetwork } from './build';
import { addClient, clientOf, type ClientOptions, type SandboxClient } from './client';
import { commOf, pidsInNamespaces, removeQbShm, signal, waitExited } from './procfs';
import { isAlive, startTimeOf } from '../util/process-identity';
import { parseQuorumToolStatus, type QuorumToolStatus } from './quorumtool';
import { DEFAULT_STATE_ROOT, confPathOf, hostPathOf, isClusterId, newClusterId, resolveCluster, type ClusterOptions, type ResolvedCluster, type ResolvedNode } from './spec';
import { claimName, clusterDirs, idOfName, ownerAlive, readState, writeState, type ClusterState } from './state';
import { cleanupStale, disownForExit, ownForExit, teardownSync } from './teardown';
import { fileTail } from './file-tail';

/** A node, by name ('n2') or corosync nodeid (2). */
export type NodeRef = string | number;

/** Everything about a node a caller may need; paths are host paths. */
export interface SandboxNode extends ResolvedNode {
  /** /run/netns/<netns>: usable with `nsenter --net=` or `ip netns exec <netns>`. */
  netnsPath: string;
  /** Host path of the node's corosync.conf (its /etc/corosync/corosync.conf); tests may edit it. */
  confPath: string;
  /** Host path of corosync's log file of this node. */
  logPath: string;
  /** Host path of corosync's stdout/stderr (startup errors land here). */
  outputPath: string;
}

export interface ExecOptions extends RunOptions {
  /**
   * Also enter the node's mount namespace (default true): the process then sees the node's own
   * /etc/corosync, /var/lib/corosync, /var/log/corosync, /run, /tmp and /sys, exactly like the
   * node's corosync. With false it only enters the network namespace and sees the host's files;
   * either way it reaches the node's corosync (client IPC is per network namespace, /dev/shm is
   * shared). Host paths of the private directories: `hostPath()`.
   */
  mountNs?: boolean;
}

export interface SpawnOptions {
  /** See ExecOptions.mountNs. Default true. */
  mountNs?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Working directory, a host path (it is opened before entering the node). Default process.cwd(). */
  cwd?: string;
  stdio?: StdioOptions;
  detached?: boolean;
}

export interface WaitOptions {
  /** Default 30000. */
  timeoutMs?: number;
  /** How often corosync-quorumtool is asked. Default 100. */
  intervalMs?: number;
}

/** One node's live state, as `corolistener sandbox status` shows it. */
export interface NodeStatus {
  name: string;
  nodeId: number;
  address: string;
  /** corosync's pid, or null when it is not running. */
  pid: number | null;
  cut: boolean;
  /** Its `corosync-quorumtool -s`, or null when corosync does not answer. */
  quorum: QuorumToolStatus | null;
}

export interface ClusterSummary {
  id: string;
  name: string;
  persistent: boolean;
  ownerPid: number;
  ownerAlive: boolean;
  complete: boolean;
  createdAt: string;
  dir: string;
  nodes: Array<Pick<ResolvedNode, 'name' | 'nodeId' | 'prio' | 'replication' | 'address'>>;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  const x = [...a].sort((p, q) => p - q);
  const y = [...b].sort((p, q) => p - q);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

export class SandboxCluster {
  readonly nodes: readonly SandboxNode[];
  /** Processes this object started, so destroy() can wait until they are reaped (no zombies). */
  private readonly children = new Set<ChildProcess>();

  /** Use createCluster() or openCluster(). */
  private constructor(private readonly state: ClusterState) {
    this.nodes = state.nodes.map((n) => ({
      ...n,
      netnsPath: netnsPath(n.netns),
      confPath: confPathOf(n),
      logPath: hostPathOf(n, NODE_LOG_FILE),
      outputPath: path.join(n.dir, 'corosync.out'),
    }));
  }

  /** @internal */
  static fromState(state: ClusterState): SandboxCluster {
    return new SandboxCluster(state);
  }

  get id(): string {
    return this.state.id;
  }
  get name(): string {
    return this.state.name;
  }
  get persistent(): boolean {
    return this.state.persistent;
  }
  get hubNetns(): string {
    return this.state.hubNetns;
  }
  /** Host directory of the cluster's state (state.json, nodes/<name>/...). */
  get dir(): string {
    return this.state.dir;
  }
  /** First three octets of the cluster's /24 (e.g. `198.18.0`). */
  get subnet(): string {
    return this.state.subnet;
  }

  node(ref: NodeRef): SandboxNode {
    const n = this.nodes.find((x) => (typeof ref === 'number' ? x.nodeId === ref : x.name === ref));
    if (!n) throw new Error(`sandbox cluster ${this.name}: no node ${JSON.stringify(ref)} (nodes: ${this.nodes.map((x) => x.name).join(', ')})`);
    return n;
  }

  /** Host path of what node `ref` sees at `insidePath` (under one of its private directories). */
  hostPath(ref: NodeRef, insidePath: string): string {
    return hostPathOf(this.node(ref), insidePath);
  }

  confPath(ref: NodeRef): string {
    return this.node(ref).confPath;
  }

  logPath(ref: NodeRef): string {
    return this.node(ref).logPath;
  }

  /** The corosync.conf the cluster was created with (every node starts with the same one). */
  initialConf(): string {
    return renderCorosyncConf(this.state);
  }

  // ---- running commands inside a node ----

  private nsenter(n: SandboxNode, mountNs: boolean, cwd: string | undefined): string[] {
    const args = ['nsenter', `--net=${n.netnsPath}`];
    if (mountNs) args.push(`--mount=${n.mountNsFile}`, `--wd=${path.resolve(cwd ?? process.cwd())}`);
    return [...args, '--'];
  }

  /** Run argv inside node `ref`; resolves with its exit code and output (never rejects on a non-zero exit). */
  exec(ref: NodeRef, argv: readonly string[], opts: ExecOptions = {}): Promise<CommandResult> {
    const mountNs = opts.mountNs ?? true;
    return runCommand([...this.nsenter(this.node(ref), mountNs, opts.cwd), ...argv], { ...opts, cwd: mountNs ? undefined : opts.cwd });
  }

  /** Start argv inside node `ref`. nsenter execs the command, so the child's pid is the command's. */
  spawn(ref: NodeRef, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const mountNs = opts.mountNs ?? true;
    const [file, ...args] = [...this.nsenter(this.node(ref), mountNs, opts.cwd), ...argv];
    const child = spawn(file!, args, { env: opts.env, cwd: mountNs ? undefined : opts.cwd, stdio: opts.stdio, detached: opts.detached });
    this.children.add(child);
    child.on('exit', () => this.children.delete(child));
    child.on('error', () => this.children.delete(child));
    return child;
  }

  // ---- clients (machines on the cluster's LAN that are not nodes) ----

  /** Create a client namespace on the hub (default name `client`, address `<subnet>.250`). */
  addClient(opts: ClientOptions = {}): Promise<SandboxClient> {
    return addClient(this, opts);
  }

  /** Handle of an existing client (e.g. one another process added). */
  client(opts: ClientOptions = {}): SandboxClient {
    return clientOf(this, opts);
  }

  // ---- corosync per node ----

  /** Pid of the corosync running in node `ref`, or null. */
  corosyncPid(ref: NodeRef): number | null {
    const pids = pidsInNamespaces([this.node(ref).netnsPath]).filter((p) => commOf(p) === 'corosync' && isAlive(p));
    return pids[0] ?? null;
  }

  isRunning(ref: NodeRef): boolean {
    return this.corosyncPid(ref) !== null;
  }

  /**
   * Start corosync in node `ref` (its own netns and mount namespace, `corosync -f`, detached so
   * it survives this process for a persistent cluster) and wait until it answers IPC. Rejects,
   * with the end of its log, if it exits first. Resolves to its pid.
   */
  async start(ref: NodeRef, opts: { timeoutMs?: number } = {}): Promise<number> {
    const n = this.node(ref);
    if (this.isRunning(n.name)) throw new Error(`node ${n.name}: corosync is already running`);
    const out = fs.openSync(n.outputPath, 'a');
    let child: ChildProcess;
    try {
      child = this.spawn(n.name, ['corosync', '-f'], { stdio: ['ignore', out, out], detached: true });
    } finally {
      fs.closeSync(out);
    }
    const ended: { how: string | null } = { how: null };
    child.on('exit', (code, sig) => (ended.how = sig ? `signal ${sig}` : `exit code ${code}`));
    child.on('error', (e) => (ended.how = String(e)));
    child.unref();
    const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
    for (;;) {
      const r = await this.exec(n.name, ['corosync-cmapctl', '-g', 'totem.cluster_name'], { mountNs: false, timeoutMs: 5_000 });
      if (r.code === 0) return child.pid!;
      if (ended.how !== null || Date.now() > deadline) {
        if (ended.how === null) this.killPid(child.pid);
        throw new Error(
          `node ${n.name}: corosync ${ended.how !== null ? `ended (${ended.how})` : 'did not answer in time'} while starting\n` +
            `--- ${n.outputPath}\n${fileTail(n.outputPath, 10)}\n--- ${n.logPath}\n${fileTail(n.logPath, 20)}`,
        );
      }
      await delay(50);
    }
  }

  /** Start corosync on every node where it is not running (in parallel). */
  async startAll(opts: { timeoutMs?: number } = {}): Promise<void> {
    await Promise.all(this.nodes.filter((n) => !this.isRunning(n.name)).map((n) => this.start(n.name, opts)));
  }

  private killPid(pid: number | undefined): void {
    if (pid === undefined) return;
    signal(pid, 'SIGKILL');
  }

  /**
   * Stop corosync in node `ref` with SIGTERM (a clean leave) and wait until it has exited. If it
   * is still running after timeoutMs it is SIGKILLed and this rejects. No-op if not running.
   */
  async stop(ref: NodeRef, opts: { timeoutMs?: number } = {}): Promise<void> {
    const pid = this.corosyncPid(ref);
    if (pid === null) return;
    signal(pid, 'SIGTERM');
    if (await waitExited(pid, opts.timeoutMs ?? 15_000)) return;
    await this.kill(ref);
    throw new Error(`node ${this.node(ref).name}: corosync ${pid} ignored SIGTERM for ${opts.timeoutMs ?? 15_000} ms; killed`);
  }

  /** SIGKILL corosync in node `ref` (a crash) and wait until it is gone. No-op if not running. */
  async kill(ref: NodeRef): Promise<void> {
    const pid = this.corosyncPid(ref);
    if (pid === null) return;
    signal(pid, 'SIGKILL');
    if (!(await waitExited(pid, 10_000))) throw new Error(`node ${this.node(ref).name}: corosync ${pid} survived SIGKILL`);
    removeQbShm(pid); // a killed corosync leaves its libqb shared memory in /dev/shm
  }

  // ---- network ----

  private async setLink(ref: NodeRef, state: 'up' | 'down'): Promise<void> {
    await runChecked(['ip', '-n', this.state.hubNetns, 'link', 'set', this.node(ref).hubVeth, state]);
  }

  /** Cut node `ref` off the others (its hub-side veth goes down). */
  cut(ref: NodeRef): Promise<void> {
    return this.setLink(ref, 'down');
  }

  /** Reconnect node `ref` (its hub-side veth goes up). */
  heal(ref: NodeRef): Promise<void> {
    return this.setLink(ref, 'up');
  }

  /** True when node `ref` is cut off. */
  async isCut(ref: NodeRef): Promise<boolean> {
    const out = await runChecked(['ip', '-n', this.state.hubNetns, '-o', 'link', 'show', this.node(ref).hubVeth]);
    const flags = /<([^>]*)>/.exec(out)?.[1]?.split(',') ?? [];
    return !flags.includes('UP');
  }

  // ---- membership ----

  /** `corosync-quorumtool -s` of node `ref`, parsed; null when its corosync does not answer. */
  async quorumStatus(ref: NodeRef): Promise<QuorumToolStatus | null> {
    const r = await this.exec(ref, ['corosync-quorumtool', '-s'], { mountNs: false, timeoutMs: 10_000 });
    // Exit code is 0 when quorate, 2 when not; without a membership section corosync is not reachable.
    if (!r.stdout.includes('Membership information')) return null;
    return parseQuorumToolStatus(r.stdout);
  }

  /** Poll node `ref`'s quorum status until `check` holds; rejects after the timeout with the last status. */
  async waitFor(ref: NodeRef, what: string, check: (s: QuorumToolStatus | null) => boolean, opts: WaitOptions = {}): Promise<QuorumToolStatus | null> {
    const n = this.node(ref);
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await this.quorumStatus(n.name);
      if (check(s)) return s;
      if (Date.now() > deadline) {
        throw new Error(`node ${n.name}: timed out after ${timeoutMs} ms waiting for ${what}; last status: ${JSON.stringify(s)}\n${this.corosyncLogTail(n.name)}`);
      }
      await delay(opts.intervalMs ?? 100);
    }
  }

  async waitQuorate(ref: NodeRef, opts?: WaitOptions): Promise<QuorumToolStatus> {
    return (await this.waitFor(ref, 'quorate', (s) => s?.quorate === true, opts))!;
  }

  /** Wait until node `ref`'s corosync answers and is not quorate. */
  async waitNotQuorate(ref: NodeRef, opts?: WaitOptions): Promise<QuorumToolStatus> {
    return (await this.waitFor(ref, 'not quorate', (s) => s?.quorate === false, opts))!;
  }

  /** Wait until node `ref` sees exactly the members `ids` (nodeids, any order). */
  async waitMembers(ref: NodeRef, ids: readonly number[], opts?: WaitOptions): Promise<QuorumToolStatus> {
    return (await this.waitFor(ref, `members [${ids.join(',')}]`, (s) => s !== null && sameMembers(s.members, ids), opts))!;
  }

  /** The last `lines` lines of node `ref`'s corosync.log ('(none)' when there is none yet). */
  corosyncLogTail(ref: NodeRef, lines = 15): string {
    const n = this.node(ref);
    return `--- ${n.logPath}\n${fileTail(n.logPath, lines)}`;
  }

  /** Wait until every node of `refs` (default all) is quorate with exactly `refs` as members. */
  async waitFormed(refs: readonly NodeRef[] = this.nodes.map((n) => n.name), opts?: WaitOptions): Promise<void> {
    const ids = refs.map((r) => this.node(r).nodeId);
    try {
      await Promise.all(refs.map((r) => this.waitFor(r, `quorate with members [${ids.join(',')}]`, (s) => s?.quorate === true && sameMembers(s.members, ids), opts)));
    } catch (e) {
      // The first node to time out names only its own log; why a node did not join is usually
      // in the others' (the one left out, the one that kept re-forming without it).
      const first = e instanceof Error ? e : new Error(String(e));
      const others = refs.map((r) => this.node(r)).filter((n) => !first.message.startsWith(`node ${n.name}:`));
      first.message += others.map((n) => `\n${this.corosyncLogTail(n.name)}`).join('');
      throw first;
    }
  }

  /** Live state of every node (or of `refs`). */
  async status(refs: readonly NodeRef[] = this.nodes.map((n) => n.name)): Promise<NodeStatus[]> {
    return Promise.all(
      refs.map(async (r): Promise<NodeStatus> => {
        const n = this.node(r);
        const pid = this.corosyncPid(n.name);
        return {
          name: n.name,
          nodeId: n.nodeId,
          address: n.address,
          pid,
          cut: await this.isCut(n.name),
          quorum: pid === null ? null : await this.quorumStatus(n.name),
        };
      }),
    );
  }

  // ---- teardown ----

  /**
   * Remove the cluster: kill every process in its namespaces (corosync and anything spawned),
   * delete the namespaces, unmount, remove its directory. Idempotent.
   */
  async destroy(): Promise<void> {
    disownForExit(this.state.dir);
    const r = teardownSync(this.state.dir);
    if (!r.done) {
      // Another process is tearing it down: wait for it to finish.
      const deadline = Date.now() + 30_000;
      while (fs.existsSync(this.state.dir) && Date.now() < deadline) await delay(50);
      if (fs.existsSync(this.state.dir)) throw new Error(`sandbox cluster ${this.name}: teardown by another process did not finish`);
    }
    if (r.errors.length > 0) throw new Error(`sandbox cluster ${this.name}: teardown incomplete:\n${r.errors.join('\n')}`);
    await this.reapChildren();
  }

  /** Let the event loop collect the exit of the processes we started (they were SIGKILLed). */
  private async reapChildren(): Promise<void> {
    const deadline = Date.now() + 2_000;
    while (this.children.size > 0 && Date.now() < deadline) await delay(10);
  }
}

/** Random ids tried before giving up: each collides with an existing cluster at 1 in 16M. */
const ID_ATTEMPTS = 5;

/**
 * Resolve `options` under a fresh random id and create the cluster's state directory, which
 * claims the id (mkdir fails when it exists). A taken id is replaced by a new one.
 */
export function claimClusterDir(options: ClusterOptions, stateRoot: string, newId: () => string = newClusterId): ResolvedCluster {
  for (let attempt = 1; ; attempt++) {
    const spec = resolveCluster(options, newId(), stateRoot);
    try {
      fs.mkdirSync(spec.dir);
      return spec;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= ID_ATTEMPTS) throw e;
    }
  }
}

/**
 * Create a cluster (and, by default, start corosync everywhere and wait until all nodes are
 * quorate members). Leftovers of crashed earlier runs are removed first. On any failure nothing
 * is left behind. A non-persistent cluster is torn down when this process exits or gets
 * SIGINT/SIGTERM/SIGHUP; SIGKILLed owners are cleaned by the next cleanupStale().
 */
export async function createCluster(options: ClusterOptions = {}, stateRoot: string = DEFAULT_STATE_ROOT): Promise<SandboxCluster> {
  resolveCluster(options, undefined, stateRoot); // invalid options: throw before touching anything
  cleanupStale(stateRoot);
  fs.mkdirSync(stateRoot, { recursive: true });
  const spec = claimClusterDir(options, stateRoot);
  const state: ClusterState = {
    ...spec,
    format: 1,
    ownerPid: process.pid,
    ownerStartTime: startTimeOf(process.pid),
    createdAt: new Date().toISOString(),
    complete: false,
  };
  writeState(state);
  if (!state.persistent) ownForExit(state.dir);
  try {
    if (options.name !== undefined) claimName(stateRoot, state.name, state.id);
    await buildCluster(state);
    state.complete = true;
    writeState(state);
    const cluster = SandboxCluster.fromState(state);
    // corosync starts while the kernel finishes bringing the bridges up (knet retries meanwhile).
    const network = waitClusterNetwork(state);
    if (options.start ?? true) {
      await Promise.all([network, cluster.startAll()]);
      if (options.waitFormed ?? true) await cluster.waitFormed(undefined, { timeoutMs: options.formTimeoutMs ?? 60_000 });
    } else {
      await network;
    }
    return cluster;
  } catch (e) {
    disownForExit(state.dir);
    teardownSync(state.dir);
    throw e;
  }
}

/** Re-attach to an existing cluster (by name or id), e.g. one `corolistener sandbox up` made. */
export function openCluster(nameOrId: string, stateRoot: string = DEFAULT_STATE_ROOT): SandboxCluster {
  const id = isClusterId(nameOrId) && fs.existsSync(path.join(stateRoot, nameOrId)) ? nameOrId : idOfName(stateRoot, nameOrId);
  const state = id === null ? null : readState(path.join(stateRoot, id));
  if (state === null) throw new Error(`no sandbox cluster named ${JSON.stringify(nameOrId)} (see listClusters())`);
  if (!state.complete) throw new Error(`sandbox cluster ${nameOrId} is still being created (or its creation crashed)`);
  return SandboxCluster.fromState(state);
}

/** Every cluster on this machine, oldest first. */
export function listClusters(stateRoot: string = DEFAULT_STATE_ROOT): ClusterSummary[] {
  const out: ClusterSummary[] = [];
  for (const dir of clusterDirs(stateRoot)) {
    let s: ClusterState | null;
    try {
      s = readState(dir);
    } catch {
      continue;
    }
    if (s === null) continue;
    out.push({
      id: s.id,
      name: s.name,
      persistent: s.persistent,
      ownerPid: s.ownerPid,
      ownerAlive: ownerAlive(s),
      complete: s.complete,
      createdAt: s.createdAt,
      dir: s.dir,
      nodes: s.nodes.map(({ name, nodeId, prio, replication, address }) => ({ name, nodeId, prio, replication, address })),
    });
  }
  return out.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
}
