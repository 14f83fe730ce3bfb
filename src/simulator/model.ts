// The simulator's data: what each simulated node is and holds, and small pure helpers.
import type { ClusterView, Effect, EngineEvent, EngineState, PersistedState, RingId } from '../engine/types';
import type { Interpreter } from '../daemon/interpreter';

export interface SimNodeSpec {
  nodeId: number;
  prio: number | undefined;
  replication: boolean;
  vms: string[];
}

export interface SimOptions {
  nodes: SimNodeSpec[];
  takeoverDelayMs?: number;
  /** quorum.expected_votes; defaults to the number of nodes (one vote each). */
  expectedVotes?: number;
  /**
   * Without it, pending deliveries are processed in one global FIFO order (stable logs for the
   * scenarios). With it, the next node to process one of its pending events is picked by a
   * PRNG seeded with this value: every node still sees its own events in order, but nodes
   * interleave like real daemons do. Deterministic for a given seed.
   */
  interleaveSeed?: number;
  /**
   * Slow daemons: the result of a `suspendVms` reaches the engine only after the events of the
   * next command (e.g. after quorum is back), as when the VM commands take their time.
   */
  lateResults?: boolean;
  /** Self-fencing on every node (fencing-sim.ts): the watchdog's timeout and the margin each node announces. */
  watchdog?: { timeoutMs: number; marginMs: number };
  /** corosync's two_node without a qdevice: one node of two is quorate (fencing-sim.ts). */
  twoNode?: boolean;
}

/** What a node holds, as the actions would leave it. */
export interface Held {
  clusterIp: boolean;
  serviceLock: boolean;
  relocatedLock: boolean;
  service: boolean;
}

export interface SimNode {
  nodeId: number;
  powered: boolean;
  corosyncUp: boolean;
  /** Link group: nodes in the same group can talk to each other. */
  group: number;
  /** The node's disk: its corosync.conf view and the engine's state file. */
  config: ClusterView;
  persisted: PersistedState | null;
  /** The engine's state as its interpreter last decided (null: no listener running). */
  engine: EngineState | null;
  interpreter: Interpreter | null;
  /** The cluster IP's device has carrier (carrier-down/carrier-up commands). */
  carrier: boolean;
  /** Current corosync membership as delivered to this node. */
  ring: RingId | null;
  members: number[];
  quorate: boolean;
  held: Held;
  running: Set<string>;
  suspended: Set<string>;
  /** VMs the node starts on its first boot (unless restored elsewhere before that). */
  initialVms: string[];
  booted: boolean;
  /** Every process stopped (fencing-sim.ts `freeze`): what its engine says is stale, not checked. */
  frozen?: boolean;
  /** Its watchdog fences it (fencing-sim.ts): its VMs must never be restored while it still runs them. */
  fencing?: boolean;
}

export interface Delivery {
  to: number;
  event: EngineEvent;
}

export interface Timer {
  at: number;
  nodeId: number;
  handle: number;
  fire: () => void;
}

/** What a node's interpreter gets as its carrier news says about corosync's failure detection (ms). */
export const SIM_CONFIRM_MS = 4_000;

export const nodeName = (id: number): string => `n${id}`;

export function describeEffect(e: Effect): string | null {
  switch (e.type) {
    case 'startService':
      return `startService failed=${e.failedNodes.map(nodeName).join(',') || '-'}`;
    case 'raisePriority':
      return `raisePriority prio=${e.prio} version=${e.configVersion}`;
    case 'publishConfig':
      return `publishConfig version=${e.configVersion}`;
    case 'reportNodesFailed':
      return `reportNodesFailed ${e.nodeIds.map(nodeName).join(',')}`;
    case 'resumeVms':
      return `resumeVms ${e.vms.join(',')}`;
    case 'reportVmsDiscarded':
      return `reportVmsDiscarded ${e.vms.join(',')}`;
    case 'startTimer':
      return `startTimer ${e.ms}ms`;
    case 'announceTakeover':
      return e.from === null ? null : `announceTakeover from=${nodeName(e.from)}`;
    case 'editConfig':
      return `editConfig ${e.summary}`;
    case 'commandResult':
      return `commandResult ${e.ok ? 'ok' : 'refused'}: ${e.message}`;
    // Protocol chatter, visible through its consequences (resume or discard) instead.
    case 'broadcastFailureRecords':
    case 'persistState':
    case 'readConfig':
      return null;
    default:
      return e.type;
  }
}

export function cloneView(v: ClusterView): ClusterView {
  return { ...v, nodes: v.nodes.map((n) => ({ ...n })) };
}

/** Whether two views are the same file (what the distribution compares by sha256). */
export function sameContent(a: ClusterView, b: ClusterView): boolean {
  return JSON.stringify(cloneView(a)) === JSON.stringify(cloneView(b));
}

export function sameMembers(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function sameRingOf(a: SimNode, b: SimNode): boolean {
  return a.ring !== null && b.ring !== null && a.ring.nodeId === b.ring.nodeId && a.ring.seq === b.ring.seq;
}

/** Lets every interpreter run until it waits: the fake actions resolve at once, so one turn of the event loop runs every microtask. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A node as it is before its first start: powered off, the initial configuration on its disk. */
export function newSimNode(spec: SimNodeSpec, config: ClusterView): SimNode {
  return {
    nodeId: spec.nodeId,
    powered: false,
    corosyncUp: false,
    group: 0,
    config,
    persisted: null,
    engine: null,
    interpreter: null,
    carrier: true,
    ring: null,
    members: [],
    quorate: false,
    held: { clusterIp: false, serviceLock: false, relocatedLock: true, service: false },
    running: new Set(),
    suspended: new Set(),
    initialVms: [...spec.vms],
    booted: false,
  };
}

/**
 * Takes the next delivery off `queue`: the first (FIFO, `rng` null), or the oldest pending one
 * of a node picked by xorshift32 from `rng` (deterministic, seeded by the options); returns the
 * PRNG's next state.
 */
export function takeDelivery(queue: Delivery[], rng: number | null): { delivery: Delivery; rng: number | null } {
  if (rng === null) {
    const first = queue.shift();
    if (first === undefined) throw new Error('no delivery pending');
    return { delivery: first, rng };
  }
  let x = rng;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  const next = x >>> 0;
  const pending = [...new Set(queue.map((d) => d.to))];
  const to = pending[next % pending.length];
  const index = queue.findIndex((d) => d.to === to);
  return { delivery: queue.splice(index, 1)[0], rng: next };
}
