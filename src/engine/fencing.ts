// Self-fencing (docs/design.md §5, "Self-fencing"; docs/engine.md "Self-fencing"), decided here so
// the daemon only feeds a watchdog and keeps a timer.
//
// Two questions, both pure:
// - Is this node safe, so that its watchdog may be fed? Quorate (the daemon adds a corosync round
//   trip), or not quorate with every VM confirmed suspended (the suspend result came back and did
//   not fail), the cluster IP confirmed gone and VMmanager confirmed stopped. Anything else starves
//   the watchdog, which resets the node WatchdogTimeout after its last feed.
// - May the master restore a departed node's VMs yet? Only once that node's fence window has
//   passed since it left our membership: its WatchdogTimeout plus its margin, as the node announced
//   it in the failure-records broadcast (gossiped, persisted). A node whose window is unknown is not
//   restored while this node fences (a master without a watchdog restores at once, as before
//   fencing existed); in a two-node cluster without a qdevice nobody's VMs are restored (both sides
//   of a split stay quorate, so a departed node proves nothing).
// Restores that wait are recorded as failures only when they happen: a node that comes back before
// its window ends was never reported failed, so it resumes its own VMs and nothing is restored.
import { broadcast, recordFailures } from './records';
import type { ClusterView, Effect, EngineEvent, EngineState, RingId, WatchdogSettings } from './types';

/** The fence window a node with these watchdog settings announces (ms after it left). */
export function fenceWindowOf(w: WatchdogSettings | null): number {
  return w === null ? 0 : w.timeoutMs + w.marginMs;
}

/** Whether `id` is the fence timer (absorb must not call it stale). */
export function isFenceTimer(s: EngineState, id: string): boolean {
  return s.fencing.timer?.id === id;
}

/** What an event tells about fencing, kept in `s` (called by absorb before anything else). */
export function absorbFencing(s: EngineState, prev: EngineState, event: EngineEvent): void {
  const f = (s.fencing = { ...prev.fencing });
  switch (event.type) {
    case 'fencing': {
      f.watchdog = event.watchdog;
      f.twoNodeWithoutQdevice = event.twoNodeWithoutQdevice;
      const own = fenceWindowOf(event.watchdog);
      if (s.persisted.fenceWindows?.[s.localNodeId] !== own) s.persisted.fenceWindows = { ...s.persisted.fenceWindows, [s.localNodeId]: own };
      break;
    }
    case 'quorum':
    case 'disconnected': {
      const members = event.type === 'quorum' ? event.members : [];
      // A departure time counts only if we watched it: from a quorate ring we were in. Coming from
      // a minority (or a restart), an absent node may have been live elsewhere until just now.
      const watched = prev.quorum?.quorate === true;
      const before = prev.quorum?.members ?? [];
      const known = new Set([...(s.config?.nodes.map((n) => n.nodeId) ?? []), ...before, ...Object.keys(f.departedAt).map(Number)]);
      const departedAt: Record<number, number> = {};
      for (const id of known) {
        if (id === s.localNodeId || members.includes(id)) continue;
        const old = prev.fencing.departedAt[id];
        departedAt[id] = watched && !before.includes(id) && old !== undefined ? old : event.now;
      }
      f.departedAt = departedAt;
      break;
    }
    case 'timerFired':
      if (f.timer?.id === event.id) f.timer = null;
      break;
    case 'vmsSuspended':
      f.suspendFailed = event.failed === true;
      break;
    case 'dutyReleased':
      f.held = { ...f.held, [event.duty]: false };
      break;
    case 'failureRecords': {
      const theirs = event.fenceWindows;
      if (theirs === undefined) break;
      let windows = s.persisted.fenceWindows ?? {};
      for (const [key, ms] of Object.entries(theirs)) {
        const id = Number(key);
        if (id === s.localNodeId) continue;
        // A node's own word is current; hearsay only ever lengthens a window (safe, never shorter).
        const have = windows[id];
        const next = id === event.from ? ms : Math.max(have ?? ms, ms);
        if (next !== have) windows = { ...windows, [id]: next };
      }
      s.persisted.fenceWindows = windows;
      break;
    }
    default:
      break;
  }
}

/** Why a node's restore must wait, or null when it may happen now. */
export type FenceWait = { kind: 'window'; endsAt: number } | { kind: 'unknown' } | { kind: 'two-node' };

export function fenceWait(s: EngineState, nodeId: number, now: number): FenceWait | null {
  if (s.fencing.twoNodeWithoutQdevice) return { kind: 'two-node' };
  const window = s.persisted.fenceWindows?.[nodeId] ?? (s.fencing.watchdog === null ? 0 : undefined);
  if (window === undefined) return { kind: 'unknown' };
  if (window === 0) return null; // no watchdog there: nothing to wait for (as before fencing)
  const left = s.persisted.fencePending?.[nodeId] ?? s.fencing.departedAt[nodeId] ?? now;
  return left + window <= now ? null : { kind: 'window', endsAt: left + window };
}

/**
 * Of `failed` (nodes the master would restore now), those that may be restored at once; the others
 * wait in `fencePending` with when they left. `restart`: a restarted master keeps what was pending
 * and restates the rest (handed over before the restart).
 */
export function restoresNow(s: EngineState, failed: readonly number[], now: number, restart: boolean, why: string[]): number[] {
  const pending = { ...s.persisted.fencePending };
  const ready: number[] = [];
  for (const id of failed) {
    if (restart) {
      if (pending[id] === undefined) ready.push(id);
      continue;
    }
    const wait = fenceWait(s, id, now);
    if (wait === null) ready.push(id);
    else pending[id] = s.fencing.departedAt[id] ?? now;
  }
  const held = failed.filter((id) => !ready.includes(id));
  if (held.length > 0) why.push(`restore of node(s) ${held.join(',')} waits for their fence window`);
  setPending(s, pending);
  return ready;
}

/**
 * Every decision: a master restores the pending nodes whose window has passed (recorded failed,
 * shared, NodeFailedCommand), forgets those back in the membership, and sets a timer for the next
 * window's end. Any other role has nothing pending (the next master decides on its own).
 */
export function settleFenceWindows(s: EngineState, view: ClusterView | null, ring: RingId | null, members: readonly number[], effects: Effect[], why: string[]): void {
  const pending = { ...s.persisted.fencePending };
  if (s.role !== 'master' || ring === null || view === null) {
    // Undecided (a restarted daemon waiting for versions): what is pending stays for its decision.
    if (Object.keys(pending).length > 0 && s.role !== 'unknown') setPending(s, {});
    s.fencing = { ...s.fencing, timer: null };
    return;
  }
  const now = s.lastEventAt ?? 0;
  const ready: number[] = [];
  const back: number[] = [];
  let next: number | null = null;
  for (const key of Object.keys(pending)) {
    const id = Number(key);
    if (members.includes(id) || !view.nodes.some((n) => n.nodeId === id)) {
      back.push(id);
      delete pending[id];
      continue;
    }
    const wait = fenceWait(s, id, now);
    if (wait === null) {
      ready.push(id);
      delete pending[id];
    } else if (wait.kind === 'window') next = next === null ? wait.endsAt : Math.min(next, wait.endsAt);
  }
  setPending(s, pending);
  if (back.length > 0) why.push(`node(s) ${back.join(',')} back before their fence window ended: not restored (their VMs are their own)`);
  if (ready.length > 0) {
    recordFailures(s, ready, ring.seq);
    broadcast(s, ring, effects);
    effects.push({ type: 'reportNodesFailed', nodeIds: ready });
    why.push(`fence window of node(s) ${ready.join(',')} passed: reported failed`);
  }
  if (next === null) {
    s.fencing = { ...s.fencing, timer: null };
  } else if (s.fencing.timer?.at !== next) {
    s.timerSeq += 1;
    const id = `fence-${s.timerSeq}`;
    s.fencing = { ...s.fencing, timer: { id, at: next } };
    // First in the plan (after the write-ahead): a step that waits (the cluster IP held by the
    // node being fenced) must not delay the window's timer.
    effects.unshift({ type: 'startTimer', id, ms: Math.max(0, next - now) });
  }
}

function setPending(s: EngineState, pending: Record<number, number>): void {
  const old = s.persisted.fencePending ?? {};
  const same = Object.keys(old).length === Object.keys(pending).length && Object.entries(pending).every(([k, v]) => old[Number(k)] === v);
  if (!same) s.persisted = { ...s.persisted, fencePending: pending };
}

/** Duties a plan takes on count as held until a teardown step confirms them released. */
export function noteDuties(s: EngineState, effects: readonly Effect[]): void {
  const ip = effects.some((e) => e.type === 'addClusterIp');
  const service = effects.some((e) => e.type === 'startService' || e.type === 'createServiceLock');
  if (ip || service) s.fencing = { ...s.fencing, held: { clusterIp: s.fencing.held.clusterIp || ip, service: s.fencing.held.service || service } };
}

export interface FenceSafety {
  /** The watchdog may be fed (the daemon also requires a corosync round trip to answer). */
  safe: boolean;
  why: string;
}

/** Whether this node is safe (its watchdog may be fed), and why (not). */
export function fenceSafety(s: EngineState): FenceSafety {
  const q = s.quorum;
  if (q === null) return { safe: false, why: 'no quorum report yet' };
  if (q.quorate) return { safe: true, why: 'quorate' };
  const open: string[] = [];
  if (s.persisted.suspendsPending > 0) open.push('VMs not confirmed suspended yet');
  else if (s.fencing.suspendFailed) open.push('the VM suspend failed');
  if (s.fencing.held.clusterIp) open.push('cluster IP not confirmed removed');
  if (s.fencing.held.service) open.push('VMmanager not confirmed stopped');
  if (open.length > 0) return { safe: false, why: `not quorate: ${open.join(', ')}` };
  return { safe: true, why: 'not quorate, every VM suspended, no master duty held' };
}

export interface PendingFence {
  nodeId: number;
  /** When it left (ms, this node's clock). */
  leftAt: number;
  /** When its fence window ends (null: never, see `waitingFor`). */
  endsAt: number | null;
  waitingFor: 'window' | 'unknown-window' | 'two-node-without-qdevice';
}

/** The restores a master holds back, for status and -l --json. */
export function pendingFences(s: EngineState, now: number): PendingFence[] {
  return Object.entries(s.persisted.fencePending ?? {}).map(([key, leftAt]) => {
    const nodeId = Number(key);
    const wait = fenceWait(s, nodeId, now);
    if (wait?.kind === 'two-node') return { nodeId, leftAt, endsAt: null, waitingFor: 'two-node-without-qdevice' };
    if (wait?.kind === 'unknown') return { nodeId, leftAt, endsAt: null, waitingFor: 'unknown-window' };
    return { nodeId, leftAt, endsAt: wait?.endsAt ?? now, waitingFor: 'window' };
  });
}
