// The invariants a fault scenario must never break, as pure functions over samples of a
// sandbox cluster (see ./monitor for the sampler). Pure so the violation logic is unit-tested
// with synthetic samples, independently of corosync and timing.
//
//   one-ip-holder        at most one node holds the cluster IP among nodes that reach each other (always)
//   one-master           at most one node reports itself master among nodes that reach each
//                        other and report the same quorate membership (always); once settled,
//                        exactly one master per quorate partition (settledProblems)
//   same-config          identical corosync.conf on every member of a partition once settled
//   no-resume-after-restore  no node resumes its VMs after a master elsewhere was told to
//                        restore them (the node was in its failed-nodes list)

export type Invariant = 'one-ip-holder' | 'one-master' | 'same-config' | 'no-resume-after-restore' | 'not-settled';

export interface Violation {
  /** ms since the epoch of the sample (or call) that shows it. */
  at: number;
  invariant: Invariant;
  detail: string;
}

/** What a node's listener says over its control socket (null: it did not answer). */
export interface ListenerView {
  role: 'master' | 'slave' | 'suspended' | 'unknown';
  quorate: boolean;
  /** Node ids corosync reports as joined, sorted. */
  members: number[];
  masterNodeId: number | null;
}

export interface NodeSample {
  name: string;
  nodeId: number;
  /** Whether this node's corosync runs (a node without corosync is alone, whatever its link). */
  corosyncRunning: boolean;
  listener: ListenerView | null;
  holdsClusterIp: boolean;
  /** sha256 of its corosync.conf, null when unreadable. */
  confSha: string | null;
}

export interface ClusterSample {
  at: number;
  /** Groups of node names that reach each other over the network (sandbox cut/partition state). */
  network: string[][];
  nodes: NodeSample[];
}

/** One command the fake VMmanager recorded. */
export interface CommandCall {
  node: string;
  nodeId: number;
  name: string;
  ms: number;
  failedNodes: number[];
}

/**
 * Groups of nodes that can form one corosync membership: reachable over the network and
 * running corosync.
 */
export function partitionsOf(sample: ClusterSample): NodeSample[][] {
  const byName = new Map(sample.nodes.map((n) => [n.name, n]));
  const out: NodeSample[][] = [];
  for (const group of sample.network) {
    const nodes = group.map((name) => byName.get(name)).filter((n): n is NodeSample => n !== undefined);
    const running = nodes.filter((n) => n.corosyncRunning);
    if (running.length > 0) out.push(running);
    for (const n of nodes.filter((x) => !x.corosyncRunning)) out.push([n]);
  }
  return out;
}

const names = (nodes: readonly NodeSample[]): string => nodes.map((n) => n.name).join(', ');

/** Invariants that hold at every instant, settled or not. */
export function sampleViolations(sample: ClusterSample): Violation[] {
  const out: Violation[] = [];
  for (const group of sample.network) {
    const holders = sample.nodes.filter((n) => group.includes(n.name) && n.holdsClusterIp);
    if (holders.length > 1) {
      out.push({ at: sample.at, invariant: 'one-ip-holder', detail: `${names(holders)} hold the cluster IP and reach each other` });
    }
    // Masters among nodes that agree on one quorate membership: such nodes decided from the
    // same inputs, so two masters there is a split brain, not a sampling artefact.
    const views = new Map<string, NodeSample[]>();
    for (const n of sample.nodes) {
      if (!group.includes(n.name) || !n.listener?.quorate || n.listener.role !== 'master') continue;
      const key = n.listener.members.join(',');
      views.set(key, [...(views.get(key) ?? []), n]);
    }
    for (const [members, masters] of views) {
      if (masters.length > 1) {
        out.push({ at: sample.at, invariant: 'one-master', detail: `${names(masters)} are all master of the quorate membership [${members}]` });
      }
    }
  }
  return out;
}

export interface SettleOptions {
  /** Votes needed for quorum (a majority of the configured nodes). */
  quorumVotes: number;
  /** Nodes whose listener is down on purpose (e.g. SIGKILLed): their role is taken from their peers. */
  listenerDown?: ReadonlySet<string>;
}

export interface SettleProblem {
  /** The invariant that stays broken if this never clears. */
  invariant: Invariant;
  detail: string;
}

/**
 * Why the cluster is not settled yet ([] when it is): in every partition with quorum, every
 * listener reports quorate with exactly the partition's members, all agree on one master, that
 * master is the only one saying so and the only one holding the cluster IP, and every member
 * has the same corosync.conf; in every partition without quorum, every node is suspended and
 * holds no cluster IP. A problem that outlasts the settle deadline is a violation.
 */
export function settledProblems(sample: ClusterSample, options: SettleOptions): SettleProblem[] {
  const problems: SettleProblem[] = [];
  const problem = (invariant: Invariant, detail: string): void => void problems.push({ invariant, detail });
  const down = options.listenerDown ?? new Set<string>();
  for (const partition of partitionsOf(sample)) {
    const ids = partition.map((n) => n.nodeId).sort((a, b) => a - b);
    const live = partition.filter((n) => !down.has(n.name));
    const where = `partition [${names(partition)}]`;
    const silent = live.filter((n) => n.listener === null);
    if (silent.length > 0) {
      problem('not-settled', `${where}: no answer from the listener on ${names(silent)}`);
      continue;
    }
    const view = (n: NodeSample): ListenerView => n.listener!;
    if (partition.length >= options.quorumVotes && partition.every((n) => n.corosyncRunning)) {
      const wrong = live.filter((n) => !view(n).quorate || view(n).members.join(',') !== ids.join(','));
      if (wrong.length > 0) {
        problem('not-settled', `${where}: ${wrong.map((n) => `${n.name} sees ${view(n).quorate ? 'quorate' : 'not quorate'} [${view(n).members.join(',')}]`).join('; ')}`);
        continue;
      }
      // Checked first: diverging files are what usually keeps a partition from agreeing on a master.
      const shas = new Set(partition.map((n) => n.confSha));
      if (shas.size !== 1 || shas.has(null)) problem('same-config', `${where}: corosync.conf differs between members`);
      const claimed = new Set(live.map((n) => view(n).masterNodeId));
      const masterId = claimed.size === 1 ? [...claimed][0]! : null;
      const master = partition.find((n) => n.nodeId === masterId);
      if (master === undefined) {
        problem('one-master', `${where}: no agreed master (${live.map((n) => `${n.name} says ${view(n).masterNodeId}`).join(', ')})`);
        continue;
      }
      const roles = live.filter((n) => view(n).role !== (n === master ? 'master' : 'slave'));
      if (roles.length > 0) problem('one-master', `${where}: master is ${master.name} but ${roles.map((n) => `${n.name} is ${view(n).role}`).join(', ')}`);
      const holders = partition.filter((n) => n.holdsClusterIp).map((n) => n.name);
      if (holders.join() !== master.name) problem('one-ip-holder', `${where}: master ${master.name}, cluster IP on [${holders.join(', ')}]`);
    } else {
      const active = live.filter((n) => view(n).role !== 'suspended');
      if (active.length > 0) problem('not-settled', `${where} has no quorum but ${active.map((n) => `${n.name} is ${view(n).role}`).join(', ')}`);
      const holders = partition.filter((n) => n.holdsClusterIp);
      if (holders.length > 0) problem('one-ip-holder', `${where} has no quorum but ${names(holders)} holds the cluster IP`);
    }
  }
  return problems;
}

const SUSPEND = 'VmSuspendCommand';
const RESUME = 'VmResumeCommand';
/** Commands after which a master restores the VMs of its failed nodes. */
const RESTORE = new Set(['ServiceStartCommand', 'NodeFailedCommand']);

/**
 * A node resuming its VMs after a master elsewhere was told they failed (and so restored them):
 * the same VM would run twice. A resume is fine when no such restore happened since the node's
 * last suspend.
 */
export function resumeViolations(calls: readonly CommandCall[]): Violation[] {
  const out: Violation[] = [];
  const sorted = [...calls].sort((a, b) => a.ms - b.ms);
  for (const resume of sorted.filter((c) => c.name === RESUME)) {
    const suspend = sorted.filter((c) => c.node === resume.node && c.name === SUSPEND && c.ms <= resume.ms).at(-1);
    const since = suspend?.ms ?? -Infinity;
    const restore = sorted.find((c) => RESTORE.has(c.name) && c.node !== resume.node && c.ms >= since && c.ms <= resume.ms && c.failedNodes.includes(resume.nodeId));
    if (restore) {
      out.push({
        at: resume.ms,
        invariant: 'no-resume-after-restore',
        detail: `${resume.node} resumed its VMs after ${restore.node} ran ${restore.name} for failed nodes [${restore.failedNodes.join(',')}]`,
      });
    }
  }
  return out;
}
