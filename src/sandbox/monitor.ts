// Watches a sandbox cluster with its listeners during a fault scenario: every 100 ms it samples
// every node (network reachability from the hub, corosync running, the listener's status over
// its control socket, who holds the cluster IP, a digest of corosync.conf) and records every
// violation of the invariants in ./monitor-checks. settle() waits until the cluster has settled
// after a fault and reports how long that took; problems that outlast its deadline are
// violations. The fake VMmanager's records are checked for VMs resumed after a restore.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import type { SandboxCluster } from './cluster';
import { DEFAULT_CLOUD_IP } from './fake-vmmgr';
import { holdersOf } from './inspect';
import type { SandboxListener } from './listener';
import { type ClusterSample, type CommandCall, type ListenerView, type NodeSample, type SettleProblem, type Violation, resumeViolations, sampleViolations, settledProblems } from './monitor-checks';
import { connectivity } from './partition';

export interface MonitorOptions {
  /** Default 100 ms. */
  intervalMs?: number;
  clusterIp?: string;
}

export interface SettleResult {
  /** ms from `since` to the first settled sample; null when it never settled before the deadline. */
  settleMs: number | null;
  problems: SettleProblem[];
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function sha256OfFile(file: string): string | null {
  try {
    return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

export class ClusterMonitor {
  readonly violations: Violation[] = [];
  samples = 0;
  /** Longest gap between two samples (the machine may be slower than the interval). */
  maxGapMs = 0;
  private last: ClusterSample | undefined;
  private settled: ClusterSample | undefined;
  private running = false;
  private loop: Promise<void> | undefined;
  /** Violations already recorded, so a lasting one is counted once (with its first time). */
  private readonly seen = new Set<string>();
  private readonly listenerDown = new Set<string>();
  private readonly quorumVotes: number;

  constructor(
    private readonly cluster: SandboxCluster,
    private readonly listeners: ReadonlyMap<string, SandboxListener>,
    private readonly options: MonitorOptions = {},
  ) {
    this.quorumVotes = Math.floor(cluster.nodes.length / 2) + 1;
  }

  /** A listener stopped on purpose (no answer from it is expected) or started again. */
  setListenerDown(node: string, down: boolean): void {
    if (down) this.listenerDown.add(node);
    else this.listenerDown.delete(node);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      let previous: number | undefined;
      while (this.running) {
        const t0 = Date.now();
        if (previous !== undefined) this.maxGapMs = Math.max(this.maxGapMs, t0 - previous);
        previous = t0;
        await this.sampleOnce();
        await delay(Math.max(0, (this.options.intervalMs ?? 100) - (Date.now() - t0)));
      }
    })();
  }

  /** Stops sampling and checks the fake VMmanager's records; returns every violation. */
  async stop(): Promise<Violation[]> {
    this.running = false;
    await this.loop;
    for (const v of resumeViolations(this.calls())) this.record(v);
    return this.violations;
  }

  /** Takes one sample now and records its violations. */
  async sampleOnce(): Promise<ClusterSample> {
    const sample = await this.sample();
    this.samples++;
    this.last = sample;
    for (const v of sampleViolations(sample)) this.record(v);
    return sample;
  }

  /**
   * Waits until the cluster is settled (see settledProblems), sampling all along; the problems
   * still there after `timeoutMs` are recorded as violations.
   */
  async settle(since: number, timeoutMs: number): Promise<SettleResult> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const sample = await this.sampleOnce();
      const problems = settledProblems(sample, { quorumVotes: this.quorumVotes, listenerDown: this.listenerDown });
      if (problems.length === 0) {
        this.settled = sample;
        return { settleMs: sample.at - since, problems };
      }
      if (Date.now() > deadline) {
        for (const p of problems) this.record({ at: sample.at, invariant: p.invariant, detail: `not settled after ${timeoutMs} ms: ${p.detail}` });
        return { settleMs: null, problems };
      }
      await delay(this.options.intervalMs ?? 100);
    }
  }

  /** The last sample taken (for messages). */
  get lastSample(): ClusterSample | undefined {
    return this.last;
  }

  /**
   * The sample in which settle() last found the cluster settled: what a scenario asks "who is
   * master now" of (the background loop may have sampled a transition since).
   */
  get settledSample(): ClusterSample | undefined {
    return this.settled;
  }

  private record(v: Violation): void {
    const key = `${v.invariant}|${v.detail}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    this.violations.push(v);
  }

  private calls(): CommandCall[] {
    return [...this.listeners.values()].flatMap((l) =>
      l.calls().map((c) => ({
        node: l.node.name,
        nodeId: l.node.nodeId,
        name: c.name,
        ms: c.ms,
        failedNodes: (c.env['COROLISTENER_FAILED_NODES'] ?? '').split(',').filter(Boolean).map(Number),
      })),
    );
  }

  private async sample(): Promise<ClusterSample> {
    const at = Date.now();
    const [network, holders, nodes] = await Promise.all([
      connectivity(this.cluster),
      holdersOf(this.cluster, this.options.clusterIp ?? DEFAULT_CLOUD_IP),
      Promise.all(
        this.cluster.nodes.map(async (n): Promise<Omit<NodeSample, 'holdsClusterIp'>> => ({
          name: n.name,
          nodeId: n.nodeId,
          corosyncRunning: this.cluster.isRunning(n.name),
          listener: await this.listenerView(n.name),
          confSha: sha256OfFile(n.confPath),
        })),
      ),
    ]);
    return { at, network, nodes: nodes.map((n) => ({ ...n, holdsClusterIp: holders.includes(n.name) })) };
  }

  private async listenerView(node: string): Promise<ListenerView | null> {
    const l = this.listeners.get(node);
    if (!l || l.pid === null) return null;
    const status = await l.status(1_000).catch(() => undefined);
    if (!status) return null;
    const r = status.report;
    return {
      role: status.daemon.role,
      quorate: r.cluster.quorate,
      members: r.nodes
        .filter((e) => e.status === 'joined')
        .map((e) => e.id)
        .sort((a, b) => a - b),
      masterNodeId: r.masterNodeId,
    };
  }
}
