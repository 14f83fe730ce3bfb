// A sandbox cluster set up to have its master fail over and to watch it happen: corosync on
// every node, either corolistener (`corolistener run`) or the polling baseline
// (bench/baseline/poll-quorumtool.sh) on every node, and outside observers that do not depend on
// what those programs log: a C quorum client per node (corosync's own detection), `ip monitor`
// per node (the cluster IP appearing), and in a client namespace on the LAN a ping of the
// cluster IP every 5 ms and a gratuitous-ARP watcher.
import { execFile } from 'node:child_process';
import { cpus } from 'node:os';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createCluster, DEFAULT_CLOUD_IP, holdersOf, macOf, recorderScript, startListeners, type SandboxClient, type SandboxCluster, type SandboxListener } from '../../dist/sandbox';
import { buildC, cSource } from '../lib/build-c';
import { repoPath } from '../lib/paths';
import { clientProbe, LineProbe, nodeProbe } from '../lib/probe';
import { schedUsage, type SchedUsage } from '../lib/proc-usage';
import { BASELINE_LOG, baselineTimes, daemonTimes } from './own-logs';
import { parseQuorumLine, type QuorumSample } from '../lib/quorum-line';
import { parseArpLine, parseIpMonitor, pingParser, type AddressEvent, type GratuitousArp, type PingReply } from './watchers';

export type Contender = 'corolistener' | 'baseline';

export const CLUSTER_IP = DEFAULT_CLOUD_IP;
const PREFIX = 24;
const DEV = 'vmbr0';
const BASELINE_SCRIPT = repoPath('bench', 'baseline', 'poll-quorumtool.sh');
/** As the baseline's node sees it (its private /tmp). */
const BASELINE_CALLS = '/tmp/vmmgr-calls.jsonl';

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** Wall-clock ms with µs resolution. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export interface Tools {
  quorumProbe: string;
  arpWatch: string;
}

export async function buildTools(): Promise<Tools> {
  return {
    quorumProbe: await buildC(cSource('quorum-probe'), ['libquorum']),
    arpWatch: await buildC(cSource('arp-watch'), []),
  };
}

/** One failover, every time in wall-clock ms. Reaction times (decision, spawn) come from the contender's own log. */
export interface Failover {
  contender: Contender;
  nodes: number;
  oldMaster: string;
  newMaster: string;
  /** Just before the old master's link was taken down. */
  cutMs: number;
  /** First survivor's quorum notification without the old master: corosync's own detection. */
  detectMs: number;
  /** The contender decided to be master (its log). */
  decisionMs: number;
  /** The cluster IP appeared on the new master (ip monitor in its namespace). */
  ipMs: number;
  /** First gratuitous ARP for the cluster IP from the new master's MAC, seen by the client. */
  arpMs: number;
  /** ServiceStartCommand spawned (its log). */
  spawnMs: number;
  /** First ping reply from the cluster IP at the client after the detection. */
  replyMs: number;
  /** corosync's effective token timeout (cmap runtime.config.totem.token: token + token_coefficient per node above 2). */
  tokenMs: number;
  /**
   * Set when the failover ran with the expected new master's node on a CPU of its own (its
   * listener, corosync and observers on one CPU, the other nodes' on the rest): see pinNodes.
   */
  ownCpu?: boolean;
  /** corolistener: its takeover plan's steps up to startService, with their durations (its log). */
  steps: Array<{ effect: string; durationMs: number }>;
  /**
   * corolistener, when asked for (FailoverOptions.usage): what every node's listener and corosync used of the CPUs from the cut
   * until the reply was seen (`toReply`) and until 5 s after it (`toSettled`, the whole change:
   * the slaves' answers, the new master's configuration distribution). Between the cut and the
   * detection the listeners sleep: this is their reaction to the change.
   */
  usage?: NodeUsage[];
}

export interface NodeUsage {
  node: string;
  /** The old master is cut off, not gone: it reacts too (suspends), on the same CPUs. */
  role: 'old master' | 'new master' | 'slave';
  toReply: { listener: SchedUsage; corosync: SchedUsage | null };
  toSettled: { listener: SchedUsage; corosync: SchedUsage | null };
}

/** How long to keep counting after the reply: the slaves' answers and the new master's later steps. */
export const SETTLE_MS = 5_000;

export interface FailoverOptions {
  /** The expected new master's node on a CPU of its own (pinNodes). */
  readonly ownCpu?: boolean;
  /** Measure every node's CPU use (Failover.usage), which waits SETTLE_MS after the reply. */
  readonly usage?: boolean;
}

const minus = (a: SchedUsage, b: SchedUsage): SchedUsage => ({ cpuMs: a.cpuMs - b.cpuMs, mainWaitMs: a.mainWaitMs - b.mainWaitMs, mainCpuMs: a.mainCpuMs - b.mainCpuMs });

async function taskset(cpuList: string, pid: number, what: string): Promise<void> {
  try {
    await promisify(execFile)('taskset', ['-a', '-p', '-c', cpuList, String(pid)]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`taskset -c ${cpuList} for ${what} (pid ${pid}): ${err.stderr?.trim() || err.message}`);
  }
}

export class FailoverSandbox {
  private readonly quorum = new Map<string, LineProbe<QuorumSample>>();
  private readonly addresses = new Map<string, LineProbe<AddressEvent>>();
  private listeners = new Map<string, SandboxListener>();
  private client!: SandboxClient;
  private ping!: LineProbe<PingReply>;
  private arp!: LineProbe<GratuitousArp>;

  private constructor(
    readonly contender: Contender,
    readonly cluster: SandboxCluster,
    private readonly tools: Tools,
  ) {}

  /** Creates the cluster and everything on it; on failure nothing is left behind. */
  static async create(contender: Contender, nodes: number, tools: Tools): Promise<FailoverSandbox> {
    const cluster = await createCluster({ nodes, formTimeoutMs: 120_000 });
    const s = new FailoverSandbox(contender, cluster, tools);
    try {
      await s.setUp();
      return s;
    } catch (e) {
      await s.destroy();
      throw e;
    }
  }

  private async setUp(): Promise<void> {
    const { cluster } = this;
    for (const n of cluster.nodes) {
      this.quorum.set(n.name, nodeProbe(cluster, n.name, [this.tools.quorumProbe], parseQuorumLine));
      const monitor = cluster.spawn(n.name, ['ip', '-ts', '-o', 'monitor', 'address'], {
        mountNs: false,
        env: { ...process.env, TZ: 'UTC' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      this.addresses.set(n.name, new LineProbe(monitor, `ip monitor in node ${n.name}`, parseIpMonitor, { readyLine: false }));
    }
    await Promise.all([...this.quorum.values()].map((p) => p.ready()));
    this.client = await cluster.addClient();
    this.arp = clientProbe(this.client, [this.tools.arpWatch], parseArpLine);
    await this.arp.ready();
    if (this.contender === 'corolistener') {
      this.listeners = new Map((await startListeners(cluster)).map((l) => [l.node.name, l]));
    } else {
      const prios = cluster.nodes.map((n) => `${n.nodeId}:${n.prio}`).join(',');
      for (const n of cluster.nodes) {
        const argv = ['bash', BASELINE_SCRIPT, BASELINE_LOG, CLUSTER_IP, String(PREFIX), DEV, prios, process.execPath, recorderScript(), BASELINE_CALLS, 'ServiceStartCommand'];
        cluster.spawn(n.name, argv, { stdio: 'ignore' }); // ends with the cluster's teardown
      }
    }
    await this.stableMaster();
    this.ping = clientProbe(this.client, ['ping', '-n', '-D', '-i', '0.005', CLUSTER_IP], pingParser(CLUSTER_IP));
    await this.ping.waitFor(() => true, 'first ping reply from the cluster IP', 30_000);
  }

  /** Waits until the cluster is formed and exactly one node, the same for 1.5 s, holds the cluster IP. */
  async stableMaster(timeoutMs = 90_000): Promise<string> {
    await this.cluster.waitFormed(undefined, { timeoutMs });
    const deadline = Date.now() + timeoutMs;
    let holder: string | null = null;
    let since = 0;
    for (;;) {
      const holders = await holdersOf(this.cluster, CLUSTER_IP);
      const now = Date.now();
      if (holders.length === 1 && holders[0] === holder && (await this.rolesAgree(holder))) {
        if (now - since >= 1_500) return holder;
      } else {
        holder = holders.length === 1 ? holders[0]! : null;
        since = now;
      }
      if (now > deadline) throw new Error(`${this.contender} cluster: no single stable holder of ${CLUSTER_IP} within ${timeoutMs} ms (holders: ${holders.join(', ') || 'none'})`);
      await delay(200);
    }
  }

  private async runtimeTokenMs(node: string): Promise<number> {
    const r = await this.cluster.exec(node, ['corosync-cmapctl', '-g', 'runtime.config.totem.token'], { mountNs: false });
    const m = /=\s*(\d+)/.exec(r.stdout);
    if (!m) throw new Error(`corosync-cmapctl runtime.config.totem.token on ${node}: ${r.stdout}${r.stderr}`);
    return Number(m[1]);
  }

  /** corolistener: `holder`'s daemon says master, every other one slave (the baseline has no one to ask). */
  private async rolesAgree(holder: string): Promise<boolean> {
    if (this.contender !== 'corolistener') return true;
    // A daemon that does not answer in time (a 16-node cluster on a loaded 2-core machine) has
    // not agreed yet: stableMaster asks again until its own deadline.
    const roles = await Promise.all([...this.listeners.values()].map(async (l) => [l.node.name, (await l.status().catch(() => undefined))?.daemon.role] as const));
    return roles.every(([name, role]) => role === (name === holder ? 'master' : 'slave'));
  }

  /**
   * Cuts the current master off and measures the takeover (and with `usage`, every node's CPU
   * until SETTLE_MS after the reply: the scale section's rows; the other parts skip that wait). Once per cluster: a healed old
   * master would need the new master's raised priority, and cluster-wide configuration
   * distribution (issue 6) is not part of the daemon yet; a fresh cluster per failover keeps
   * every failover the same, from a settled cluster.
   */
  async failover(opts: FailoverOptions = {}): Promise<Failover> {
    try {
      return await this.measureFailover(opts.ownCpu === true, opts.usage === true);
    } catch (e) {
      throw new Error(`${this.contender} cluster (${this.cluster.nodes.length} nodes): ${(e as Error).message}\n${await this.diagnose()}`);
    }
  }

  /** What the cluster looks like now, for an error message. */
  private async diagnose(): Promise<string> {
    const holders = await holdersOf(this.cluster, CLUSTER_IP).catch((e) => [String(e)]);
    const neighbour = await this.client.neighbour(CLUSTER_IP).catch((e) => String(e));
    const macs = await Promise.all(this.cluster.nodes.map(async (n) => `${n.name}=${await macOf(this.cluster, n.name).catch(() => '?')}`));
    const lastPing = this.ping?.samples.at(-1);
    return [
      `holders of ${CLUSTER_IP}: ${holders.join(', ') || 'none'}; client neighbour entry: ${JSON.stringify(neighbour)}; MACs: ${macs.join(' ')}`,
      `last ping reply: ${lastPing ? new Date(lastPing.atMs).toISOString() : 'none'}; last ARPs seen: ${JSON.stringify(this.arp?.samples.slice(-3))}`,
      ...[...this.listeners.values()].map((l) => `--- ${l.node.name}\n${l.diagnostics(8)}`),
    ].join('\n');
  }

  private async measureFailover(ownCpu: boolean, withUsage: boolean): Promise<Failover> {
    const oldMaster = await this.stableMaster();
    const old = this.cluster.node(oldMaster);
    const survivors = this.cluster.nodes.filter((n) => n.name !== oldMaster);
    // The survivor the election will pick: the highest prio (the old master's raise is its own).
    const expected = [...survivors].sort((a, b) => b.prio - a.prio)[0]!.name;
    if (ownCpu) await this.pinNodes(expected);
    const marks = new Map([...this.quorum].map(([name, p]) => [name, p.samples.length]));
    const addrMarks = new Map([...this.addresses].map(([name, p]) => [name, p.samples.length]));
    const pingMark = this.ping.samples.length;
    const arpMark = this.arp.samples.length;

    const tokenMs = await this.runtimeTokenMs(oldMaster);
    const everyNode = this.cluster.nodes.map((n) => n.name);
    const usageAtCut = this.usageSnapshot(everyNode);
    const cutMs = nowMs();
    await this.cluster.cut(oldMaster);
    const seen = await Promise.all(survivors.map((n) => this.quorum.get(n.name)!.waitFor((s) => !s.members.includes(old.nodeId), `quorum change without ${oldMaster}`, 60_000, marks.get(n.name))));
    const detectMs = Math.min(...seen.map((s) => Number(s.realNs / 1000n) / 1000));
    const reply = await this.ping.waitFor((r) => r.atMs > detectMs, `ping reply from ${CLUSTER_IP} after the failover`, 60_000, pingMark);
    const usageAtReply = this.usageSnapshot(everyNode);
    const added = await Promise.race(
      survivors.map(async (n) => ({
        node: n.name,
        event: await this.addresses.get(n.name)!.waitFor((e) => e.added && e.address === `${CLUSTER_IP}/${PREFIX}`, 'cluster IP added', 60_000, addrMarks.get(n.name)),
      })),
    );
    const newMaster = added.node;
    if (ownCpu && newMaster !== expected) throw new Error(`expected ${expected} to take over (highest prio), ${newMaster} did: the CPU it ran on was not its own`);
    const mac = await macOf(this.cluster, newMaster);
    const arp = await this.arp.waitFor((a) => a.ip === CLUSTER_IP && a.mac === mac, `gratuitous ARP from ${newMaster}`, 30_000, arpMark);
    const { decisionMs, spawnMs, steps } = await this.ownTimes(newMaster, cutMs);
    let usage: NodeUsage[] | undefined;
    if (withUsage && this.contender === 'corolistener') {
      await delay(Math.max(0, reply.atMs + SETTLE_MS - nowMs()));
      const usageSettled = this.usageSnapshot(everyNode);
      const diff = (later: typeof usageAtCut, node: string) => {
        const [a, b] = [later.get(node)!, usageAtCut.get(node)!];
        return { listener: minus(a.listener, b.listener), corosync: a.corosync && b.corosync ? minus(a.corosync, b.corosync) : null };
      };
      usage = everyNode.map((node) => ({
        node,
        role: node === newMaster ? 'new master' : node === oldMaster ? 'old master' : 'slave',
        toReply: diff(usageAtReply, node),
        toSettled: diff(usageSettled, node),
      }));
    }

    return {
      contender: this.contender,
      nodes: this.cluster.nodes.length,
      oldMaster,
      newMaster,
      cutMs,
      detectMs,
      decisionMs,
      ipMs: added.event.atMs,
      arpMs: arp.atMs,
      spawnMs,
      replyMs: reply.atMs,
      tokenMs,
      ...(ownCpu ? { ownCpu } : {}),
      steps,
      usage,
    };
  }

  /**
   * A real cluster's nodes do not share CPUs; the sandbox's do. To measure what the new master
   * takes when it is not queued behind 15 other nodes' corosyncs and listeners, its node gets
   * the last CPU to itself (listener, corosync, its quorum probe and ip monitor; what they start
   * inherits it) and every other node's processes share the others. Set with taskset on every
   * thread (-a); threads started later inherit their creator's affinity.
   */
  private async pinNodes(own: string): Promise<void> {
    const n = cpus().length;
    if (n < 2) throw new Error('a CPU of its own for the new master needs at least 2 CPUs');
    const ownCpu = String(n - 1);
    const rest = n === 2 ? '0' : `0-${n - 2}`;
    for (const node of this.cluster.nodes) {
      const pids = [this.listeners.get(node.name)?.pid, this.cluster.corosyncPid(node.name), this.quorum.get(node.name)?.pid, this.addresses.get(node.name)?.pid].filter(
        (p): p is number => typeof p === 'number',
      );
      for (const pid of pids) {
        await taskset(node.name === own ? ownCpu : rest, pid, node.name);
      }
    }
    // The client's ping and ARP watcher stay free to run on either CPU: the client is another
    // machine, and a pinger queued behind the 15 nodes would send its next request late and
    // delay the reply it measures. This runner is left alone too (what it starts inherits its affinity).
  }

  /** corolistener: the scheduler's accounting of every listener (and its corosync) on `nodes` now. */
  private usageSnapshot(nodes: readonly string[]): Map<string, { listener: SchedUsage; corosync: SchedUsage | null }> {
    const out = new Map<string, { listener: SchedUsage; corosync: SchedUsage | null }>();
    if (this.contender !== 'corolistener') return out;
    for (const node of nodes) {
      const pid = this.listeners.get(node)?.pid;
      if (pid === null || pid === undefined) throw new Error(`the listener on ${node} is not running`);
      const corosync = this.cluster.corosyncPid(node);
      out.set(node, { listener: schedUsage(pid), corosync: corosync === null ? null : schedUsage(corosync) });
    }
    return out;
  }

  /** The decision and the ServiceStartCommand spawn, from the contender's own log on `node` (waits up to 30 s). */
  private async ownTimes(node: string, sinceMs: number): Promise<{ decisionMs: number; spawnMs: number; steps: Failover['steps'] }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const t = this.contender === 'corolistener' ? daemonTimes(this.listeners.get(node)!, sinceMs) : baselineTimes(this.cluster, node, sinceMs);
      if (t.decisionMs !== undefined && t.spawnMs !== undefined) return { decisionMs: t.decisionMs, spawnMs: t.spawnMs, steps: t.steps ?? [] };
      if (Date.now() > deadline) {
        throw new Error(`${this.contender} on ${node}: no ${t.decisionMs === undefined ? 'master decision' : 'ServiceStartCommand spawn'} in its log after the failover`);
      }
      await delay(100);
    }
  }

  async destroy(): Promise<void> {
    const probes: Array<LineProbe<unknown>> = [...this.quorum.values(), ...this.addresses.values()];
    if (this.ping) probes.push(this.ping);
    if (this.arp) probes.push(this.arp);
    await Promise.all(probes.map((p) => p.stop()));
    await Promise.all([...this.listeners.values()].map((l) => l.kill().catch(() => undefined)));
    await this.cluster.destroy();
  }
}
