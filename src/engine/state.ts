// The engine's state: a fresh daemon's, and comparisons of its parts (pure, no I/O).
import type { EngineState, FencingState, PersistedState, RingId, Role } from './types';

export function emptyPersistedState(): PersistedState {
  return {
    lastRole: 'unknown',
    ringId: null,
    lastQuorateSeq: null,
    suspendedVms: [],
    suspendedAfterSeq: null,
    suspendsPending: 0,
    failureRecords: {},
    claimedVersion: null,
    fenceWindows: {},
    fencePending: {},
  };
}

/**
 * State of a freshly started daemon. `persisted` is what the previous run saved (null on first
 * boot); it decides whether the first decision tears down master duties that may still be held
 * (unknown history or previous master) and whether a master keeps `.lock.vmmgr.relocated`.
 */
export function initialState(localNodeId: number, persisted: PersistedState | null = null): EngineState {
  const p = persisted ?? emptyPersistedState();
  return {
    localNodeId,
    role: 'unknown',
    masterId: null,
    namedSince: null,
    config: null,
    quorum: null,
    configVersions: {},
    takeoverTimer: null,
    timerSeq: 0,
    recordsRing: null,
    recordsFrom: [],
    recordsSentSeq: null,
    publishedAt: null,
    servedMembers: null,
    conflict: null,
    link: { dev: null, carrier: true, hold: null },
    clusterIp: { held: false, why: 'not added yet' },
    restoredRole: p.lastRole,
    persisted: {
      ...p,
      suspendedVms: [...p.suspendedVms],
      failureRecords: { ...p.failureRecords },
      // State files written before claims existed have none.
      claimedVersion: p.claimedVersion ?? null,
      // State files written before fencing existed have neither.
      fenceWindows: { ...p.fenceWindows },
      fencePending: { ...p.fencePending },
      // Results of suspends the previous run asked for died with it: those VMs are unknown here,
      // so they stay suspended (never resumed blindly), and nothing is waited for any more.
      suspendsPending: 0,
    },
    lastEventAt: null,
    fencing: initialFencing(p.lastRole),
  };
}

export function sameRing(a: RingId | null | undefined, b: RingId | null | undefined): boolean {
  if (a == null || b == null) return a == b;
  return a.nodeId === b.nodeId && a.seq === b.seq;
}

/** Whether two persisted states are equal (a persistState is emitted only on change). */
export function samePersisted(a: PersistedState, b: PersistedState): boolean {
  if (a.lastRole !== b.lastRole || a.lastQuorateSeq !== b.lastQuorateSeq) return false;
  if (a.suspendedAfterSeq !== b.suspendedAfterSeq || a.suspendsPending !== b.suspendsPending) return false;
  if (!sameRing(a.ringId, b.ringId)) return false;
  if (a.failureRecords !== b.failureRecords) {
    const ka = Object.keys(a.failureRecords);
    if (ka.length !== Object.keys(b.failureRecords).length) return false;
    for (const k of ka) if (a.failureRecords[Number(k)] !== b.failureRecords[Number(k)]) return false;
  }
  const ca = a.claimedVersion;
  const cb = b.claimedVersion;
  if (ca !== cb && (ca === null || cb === null || ca.by !== cb.by || ca.version !== cb.version)) return false;
  if (!sameNumbers(a.fenceWindows, b.fenceWindows) || !sameNumbers(a.fencePending, b.fencePending)) return false;
  if (a.suspendedVms.length !== b.suspendedVms.length) return false;
  return a.suspendedVms.every((vm, i) => vm === b.suspendedVms[i]);
}

function sameNumbers(a: Record<number, number> | undefined, b: Record<number, number> | undefined): boolean {
  if (a === b) return true;
  const ka = Object.keys(a ?? {});
  if (ka.length !== Object.keys(b ?? {}).length) return false;
  return ka.every((k) => a?.[Number(k)] === b?.[Number(k)]);
}

/** A fresh daemon's fencing state (src/engine/fencing.ts): duties it may have inherited count as held until released. */
export function initialFencing(restoredRole: Role): FencingState {
  const inherited = restoredRole === 'master' || restoredRole === 'unknown';
  return {
    watchdog: null,
    twoNodeWithoutQdevice: false,
    departedAt: {},
    timer: null,
    held: { clusterIp: inherited, service: inherited },
    suspendFailed: false,
  };
}
