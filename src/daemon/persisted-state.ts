// Validation of the engine's PersistedState as read back from the state file: the file is
// local, but a truncated or hand-edited file must never become a decision input unchecked
// (a wrong lastRole could repeat a takeover, a wrong suspendedVms resume restored VMs).
import type { ClaimedVersion, FailureRecords, PersistedState, RingId, Role } from '../engine/types';

const ROLES: readonly Role[] = ['master', 'slave', 'suspended', 'unknown'];

function fail(field: string, expected: string): never {
  throw new Error(`${field} must be ${expected}`);
}

function int(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(field, 'a non-negative integer');
  return v;
}

function nullableInt(v: unknown, field: string): number | null {
  return v === null ? null : int(v, field);
}

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, 'an object');
  return v as Record<string, unknown>;
}

function ringId(v: unknown, field: string): RingId | null {
  if (v === null) return null;
  const r = obj(v, field);
  return { nodeId: int(r.nodeId, `${field}.nodeId`), seq: int(r.seq, `${field}.seq`) };
}

function records(v: unknown, field: string): FailureRecords {
  const r = obj(v, field);
  const out: FailureRecords = {};
  for (const [k, seq] of Object.entries(r)) {
    if (!/^(0|[1-9][0-9]*)$/.test(k)) fail(`${field} key ${JSON.stringify(k)}`, 'a node id');
    out[Number(k)] = int(seq, `${field}.${k}`);
  }
  return out;
}

function claimedVersion(v: unknown, field: string): ClaimedVersion | null {
  if (v === null) return null;
  const c = obj(v, field);
  return { by: int(c.by, `${field}.by`), version: int(c.version, `${field}.version`) };
}

export function validatePersistedState(raw: unknown): PersistedState {
  const s = obj(raw, 'state');
  if (typeof s.lastRole !== 'string' || !(ROLES as readonly string[]).includes(s.lastRole)) fail('lastRole', `one of ${ROLES.join(', ')}`);
  if (!Array.isArray(s.suspendedVms) || !s.suspendedVms.every((vm) => typeof vm === 'string')) fail('suspendedVms', 'an array of strings');
  // suspendRequested (a boolean) is what state files written before the count held.
  const pending = s.suspendsPending ?? (s.suspendRequested === true ? 1 : s.suspendRequested === false ? 0 : undefined);
  return {
    lastRole: s.lastRole as Role,
    ringId: ringId(s.ringId, 'ringId'),
    lastQuorateSeq: nullableInt(s.lastQuorateSeq, 'lastQuorateSeq'),
    suspendedVms: [...(s.suspendedVms as string[])],
    // -1: the VMs were suspended before this node had ever been quorate (any later failure
    // record for it means they were restored elsewhere); see settleVms in src/engine/records.ts.
    suspendedAfterSeq: s.suspendedAfterSeq === -1 ? -1 : nullableInt(s.suspendedAfterSeq, 'suspendedAfterSeq'),
    suspendsPending: int(pending, 'suspendsPending'),
    failureRecords: records(s.failureRecords, 'failureRecords'),
    // Absent in state files written before claimed versions existed.
    claimedVersion: s.claimedVersion === undefined ? null : claimedVersion(s.claimedVersion, 'claimedVersion'),
    // Absent in state files written before self-fencing existed.
    fenceWindows: s.fenceWindows === undefined ? {} : records(s.fenceWindows, 'fenceWindows'),
    fencePending: s.fencePending === undefined ? {} : records(s.fencePending, 'fencePending'),
  };
}
