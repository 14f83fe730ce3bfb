// Failure records (docs/engine.md, "VM resume safety"): which node a master reported failed at
// which ring, shared once per ring, and the VM verdict of a node that suspended its VMs.
import { sameRing } from './state';
import type { ClusterView, Effect, EngineState, FailureRecords, RingId } from './types';

/** Merge `from` into `into` keeping the highest seq per node; returns the result and whether it changed. */
export function mergeFailureRecords(into: FailureRecords, from: FailureRecords): { records: FailureRecords; changed: boolean } {
  let out = into;
  for (const key of Object.keys(from)) {
    const id = Number(key);
    const seq = from[id];
    if (!Number.isInteger(id) || typeof seq !== 'number') continue;
    const have = out[id];
    if (have === undefined || seq > have) {
      if (out === into) out = { ...into };
      out[id] = seq;
    }
  }
  return { records: out, changed: out !== into };
}

export function nodesNotIn(view: ClusterView, members: readonly number[]): number[] {
  return view.nodes
    .map((n) => n.nodeId)
    .filter((id) => !members.includes(id))
    .sort((a, b) => a - b);
}

export function recordFailures(s: EngineState, nodeIds: readonly number[], seq: number): boolean {
  const add: FailureRecords = {};
  for (const id of nodeIds) add[id] = seq;
  const merged = mergeFailureRecords(s.persisted.failureRecords, add);
  s.persisted.failureRecords = merged.records;
  return merged.changed;
}

/** What this node tells a ring it is in: its failure records and the version it claims, if any. */
export function failureRecordsBroadcast(s: EngineState, ringId: RingId): Effect {
  const claim = s.persisted.claimedVersion;
  // The fence windows this node knows travel with them (src/engine/fencing.ts), once it knows any.
  const windows = s.persisted.fenceWindows ?? {};
  const fence = Object.keys(windows).length > 0 ? { fenceWindows: windows } : {};
  return { type: 'broadcastFailureRecords', ringId, records: s.persisted.failureRecords, ...(claim === null ? {} : { claim }), ...fence };
}

export function broadcast(s: EngineState, ringId: RingId, effects: Effect[]): void {
  effects.push(failureRecordsBroadcast(s, ringId));
  s.recordsSentSeq = ringId.seq;
  if (!sameRing(s.recordsRing, ringId)) {
    s.recordsRing = ringId;
    s.recordsFrom = [];
  }
  if (!s.recordsFrom.includes(s.localNodeId)) s.recordsFrom = [...s.recordsFrom, s.localNodeId];
}

/** Decide the VM verdict once every member's failure records for this ring are in. */
export function settleVms(s: EngineState, effects: Effect[], why: string[]): void {
  const p = s.persisted;
  if (p.suspendedAfterSeq === null || !s.quorum?.quorate) return;
  if (p.suspendsPending > 0) {
    why.push('VM decision waits for the suspend result');
    return;
  }
  const answered = sameRing(s.recordsRing, s.quorum.ringId) ? s.recordsFrom : [];
  const missing = s.quorum.members.filter((id) => !answered.includes(id));
  if (missing.length > 0) {
    why.push(`VMs stay suspended until failure records of node(s) ${missing.join(',')} arrive`);
    return;
  }
  const failedAt = p.failureRecords[s.localNodeId];
  const vms = p.suspendedVms;
  if (failedAt !== undefined && failedAt > p.suspendedAfterSeq) {
    if (vms.length > 0) effects.push({ type: 'reportVmsDiscarded', vms });
    why.push(`this node was reported failed at ring ${failedAt} after its last quorate ring ${p.suspendedAfterSeq}: its VMs were restored elsewhere, suspended copies discarded`);
  } else {
    if (vms.length > 0) effects.push({ type: 'resumeVms', vms });
    why.push(`no master reported this node failed since ring ${p.suspendedAfterSeq}: suspended VMs resumed`);
  }
  s.persisted = { ...p, suspendedVms: [], suspendedAfterSeq: null };
}
