// One failover of one system in a fresh 3-node sandbox cluster: start it, wait until it has
// settled (one node, the same for 1.5 s, holding the cluster IP, and the system's own check),
// cut the holder's link, and watch from outside:
//   cut          the hub's `ip -ts -o monitor link` line for the holder's hub-side veth going
//                down (the clock starts at the kernel's event, not at our call)
//   cluster IP   `ip -ts -o monitor address` in every node: the first add on a survivor stops
//                the clock; every add and delete on every node gives the overlaps (./holders)
//   detection    (corosync-based systems) the first quorum notification without the old master
//                on a survivor, from a C libquorum client per node (bench/c/quorum-probe.c)
// Everything started here runs inside the cluster's namespaces and is stopped, or killed by the
// cluster's teardown, on every path out.
import { spawn } from 'node:child_process';
import { createCluster, holdersOf, type SandboxCluster } from '../../dist/sandbox';
import { parseIpMonitor, type AddressEvent } from '../failover/watchers';
import { LineProbe, nodeProbe } from '../lib/probe';
import { parseQuorumLine, type QuorumSample } from '../lib/quorum-line';
import { overlaps, type HoldEvent, type Overlap } from './holders';
import { parseLinkLine, type LinkEvent } from './link-events';
import type { PeerSystem, RunningPeer } from './peer';
import { CLUSTER_IP, nowMs } from './target';

/** How long after the new master got the address overlaps are still looked for. */
export const WINDOW_AFTER_MS = 1_500;
/** How long, at most, the cut-off old master is waited for to let the address go. */
export const OLD_MASTER_WAIT_MS = 8_000;
const STABLE_MS = 1_500;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface PeerRun {
  system: string;
  oldMaster: string;
  newMaster: string;
  /** Our call of `ip link set ... down` (wall-clock ms), for reference. */
  callMs: number;
  /** The hub's link-down event. */
  cutMs: number;
  /** The cluster IP added on the new master. */
  ipMs: number;
  /** corosync's detection on the first survivor (corosync-based systems). */
  detectMs?: number;
  /** The cut-off old master let the address go (undefined: it still held it at the end). */
  oldReleaseMs?: number;
  /** corolistener: its decision to take over (its log, whole ms). */
  decisionMs?: number;
  /** End of the observation window. */
  endMs: number;
  overlaps: Overlap[];
  /** Holders at the end of the window. */
  finalHolders: string[];
  facts: Record<string, string>;
}

export interface Tools {
  quorumProbe: string;
}

/** Seconds spent in each phase of a run (logged, to keep the part's time in check). */
export interface Phases {
  cluster: number;
  settle: number;
  failover: number;
  teardown: number;
}

export async function peerRun(system: PeerSystem, tools: Tools, phases?: (p: Phases) => void): Promise<PeerRun> {
  const t = [Date.now()];
  const lap = (): number => (t.push(Date.now()), (t.at(-1)! - t.at(-2)!) / 1000);
  const p: Phases = { cluster: 0, settle: 0, failover: 0, teardown: 0 };
  const cluster = await createCluster({ nodes: 3, formTimeoutMs: 120_000, ...system.cluster });
  p.cluster = lap();
  const probes: Array<LineProbe<unknown>> = [];
  let running: RunningPeer | null = null;
  try {
    const env = { ...process.env, TZ: 'UTC' };
    const link = new LineProbe<LinkEvent>(
      spawn('ip', ['-n', cluster.hubNetns, '-ts', '-o', 'monitor', 'link'], { env, stdio: ['ignore', 'pipe', 'pipe'] }),
      'ip monitor link in the hub',
      parseLinkLine,
      {
        readyLine: false,
      },
    );
    probes.push(link);
    const addresses = new Map<string, LineProbe<AddressEvent>>();
    const quorum = new Map<string, LineProbe<QuorumSample>>();
    for (const n of cluster.nodes) {
      const monitor = cluster.spawn(n.name, ['ip', '-ts', '-o', 'monitor', 'address'], { mountNs: false, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const probe = new LineProbe(monitor, `ip monitor address in node ${n.name}`, parseIpMonitor, { readyLine: false });
      addresses.set(n.name, probe);
      probes.push(probe);
      if (system.usesCorosync) {
        const q = nodeProbe(cluster, n.name, [tools.quorumProbe], parseQuorumLine);
        quorum.set(n.name, q);
        probes.push(q);
      }
    }
    await Promise.all([...quorum.values()].map((q) => q.ready()));
    try {
      running = await system.start(cluster);
      return await measure(system, cluster, running, link, addresses, quorum, () => (p.settle = lap()));
    } catch (e) {
      const diag = running?.diagnostics() ?? '';
      throw new Error(`${system.label}: ${(e as Error).message}${diag ? `\n${diag}` : ''}`);
    }
  } finally {
    p.failover = lap();
    await Promise.all(probes.map((x) => x.stop()));
    await running?.stop().catch(() => undefined);
    await cluster.destroy();
    p.teardown = lap();
    phases?.(p);
  }
}

async function stableHolder(cluster: SandboxCluster, running: RunningPeer, timeoutMs = 90_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let holder: string | null = null;
  let since = 0;
  for (;;) {
    const holders = await holdersOf(cluster, CLUSTER_IP);
    const now = Date.now();
    const one = holders.length === 1 && (running.expectedMaster === null || holders[0] === running.expectedMaster) ? holders[0]! : null;
    if (one !== null && one === holder) {
      if (now - since >= STABLE_MS && (await running.settled(one))) return one;
    } else {
      holder = one;
      since = now;
    }
    if (now > deadline) throw new Error(`no single stable holder of ${CLUSTER_IP} that the system agrees on within ${timeoutMs} ms (holders: ${holders.join(', ') || 'none'})`);
    await delay(200);
  }
}

async function runtimeTotem(cluster: SandboxCluster, node: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const key of ['token', 'consensus']) {
    const r = await cluster.exec(node, ['corosync-cmapctl', '-g', `runtime.config.totem.${key}`], { mountNs: false });
    const m = /=\s*(\d+)/.exec(r.stdout);
    if (!m) throw new Error(`corosync-cmapctl runtime.config.totem.${key} on ${node}: ${r.stdout}${r.stderr}`);
    out[key] = m[1]!;
  }
  return out;
}

async function measure(
  system: PeerSystem,
  cluster: SandboxCluster,
  running: RunningPeer,
  link: LineProbe<LinkEvent>,
  addresses: Map<string, LineProbe<AddressEvent>>,
  quorum: Map<string, LineProbe<QuorumSample>>,
  settledNow: () => void,
): Promise<PeerRun> {
  const oldMaster = await stableHolder(cluster, running);
  settledNow();
  const old = cluster.node(oldMaster);
  const survivors = cluster.nodes.filter((n) => n.name !== oldMaster);
  const facts = { ...(system.usesCorosync ? await runtimeTotem(cluster, oldMaster) : {}), ...((await running.facts?.()) ?? {}) };
  const linkMark = link.samples.length;
  const addrMarks = new Map([...addresses].map(([name, p]) => [name, p.samples.length]));
  const quorumMarks = new Map([...quorum].map(([name, p]) => [name, p.samples.length]));

  const callMs = nowMs();
  await cluster.cut(oldMaster);
  const down = await link.waitFor((e) => e.ifname === old.hubVeth && !e.up, `${old.hubVeth} going down`, 10_000, linkMark);
  const isIp = (e: AddressEvent): boolean => e.address.split('/')[0] === CLUSTER_IP;
  const added = await Promise.race(
    survivors.map(async (n) => ({ node: n.name, event: await addresses.get(n.name)!.waitFor((e) => e.added && isIp(e), 'cluster IP added', 60_000, addrMarks.get(n.name)) })),
  );
  let detectMs: number | undefined;
  if (quorum.size > 0) {
    const seen = await Promise.all(survivors.map((n) => quorum.get(n.name)!.waitFor((s) => !s.members.includes(old.nodeId), `quorum change without ${oldMaster}`, 30_000, quorumMarks.get(n.name))));
    detectMs = Math.min(...seen.map((s) => Number(s.realNs / 1000n) / 1000));
  }
  const ipMs = added.event.atMs;
  // Watch on: a survivor's brief second claim shows within the window; the cut-off old master
  // is waited for until it lets go (or for OLD_MASTER_WAIT_MS).
  const oldRelease = (): AddressEvent | undefined =>
    addresses
      .get(oldMaster)!
      .samples.slice(addrMarks.get(oldMaster))
      .find((e) => !e.added && isIp(e));
  await delay(Math.max(0, ipMs + WINDOW_AFTER_MS - nowMs()));
  while (oldRelease() === undefined && nowMs() < ipMs + OLD_MASTER_WAIT_MS) await delay(100);
  const endMs = nowMs();
  const events: HoldEvent[] = [...addresses].flatMap(([node, p]) =>
    p.samples
      .slice(addrMarks.get(node))
      .filter(isIp)
      .map((e) => ({ atMs: e.atMs, node, added: e.added })),
  );
  return {
    system: system.id,
    oldMaster,
    newMaster: added.node,
    callMs,
    cutMs: down.atMs,
    ipMs,
    detectMs,
    oldReleaseMs: oldRelease()?.atMs,
    decisionMs: running.decisionMs?.(added.node, callMs),
    endMs,
    overlaps: overlaps([oldMaster], events, oldMaster, callMs, endMs),
    finalHolders: await holdersOf(cluster, CLUSTER_IP),
    facts,
  };
}
