// The registry of message types corolistener nodes exchange over the CPG group `corolistener`:
// each type's name, body shape and validator, and the codec that knows all of them. Every new
// message type (e.g. configuration distribution) registers here, so one codec decodes them all.
import { registerConfigMessages } from './config-messages';
import { MessageCodec } from './envelope';
import { HANDOVER, validateHandoverBody } from './handover-messages';
import { OPERATOR, validateOperatorBody } from './operator-messages';
import type { ClaimedVersion, FailureRecords, RingId } from '../engine/types';

/** The CPG group every corolistener joins. */
export const CPG_GROUP = 'corolistener';

export const FAILURE_RECORDS = 'failureRecords';

/** A peer's failure records (its engine's broadcastFailureRecords effect). */
export interface FailureRecordsBody {
  ringId: RingId;
  records: FailureRecords;
  /** The sender's claimed version (a master elected there may have written it unseen), if any. */
  claim?: ClaimedVersion;
  /** The fence windows (ms) the sender knows, its own included (src/engine/fencing.ts). */
  fenceWindows?: Record<number, number>;
}

/** Corosync node ids and ring seqs: non-negative safe integers. */
function count(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new Error(`${field} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

function plainObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${field} must be an object`);
  return value as Record<string, unknown>;
}

/** At most this many records (one per node; corosync allows far fewer nodes). */
const MAX_RECORDS = 1024;

export function validateFailureRecordsBody(body: unknown): FailureRecordsBody {
  const b = plainObject(body, 'body');
  const ring = plainObject(b.ringId, 'ringId');
  const ringId = { nodeId: count(ring.nodeId, 'ringId.nodeId'), seq: count(ring.seq, 'ringId.seq') };
  const raw = plainObject(b.records, 'records');
  const keys = Object.keys(raw);
  if (keys.length > MAX_RECORDS) throw new Error(`records has ${keys.length} entries, over ${MAX_RECORDS}`);
  const records: FailureRecords = {};
  for (const key of keys) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(key)) throw new Error(`records key ${JSON.stringify(key)} is not a node id`);
    records[Number(key)] = count(raw[key], `records[${key}]`);
  }
  const out: FailureRecordsBody = { ringId, records };
  if (b.claim !== undefined) {
    const c = plainObject(b.claim, 'claim');
    out.claim = { by: count(c.by, 'claim.by'), version: count(c.version, 'claim.version') };
  }
  if (b.fenceWindows !== undefined) out.fenceWindows = nodeNumbers(b.fenceWindows, 'fenceWindows');
  return out;
}

/** A node id -> non-negative integer map (records, fence windows), bounded. */
function nodeNumbers(value: unknown, field: string): Record<number, number> {
  const raw = plainObject(value, field);
  const keys = Object.keys(raw);
  if (keys.length > MAX_RECORDS) throw new Error(`${field} has ${keys.length} entries, over ${MAX_RECORDS}`);
  const out: Record<number, number> = {};
  for (const key of keys) {
    if (!/^(0|[1-9][0-9]{0,9})$/.test(key)) throw new Error(`${field} key ${JSON.stringify(key)} is not a node id`);
    out[Number(key)] = count(raw[key], `${field}[${key}]`);
  }
  return out;
}

/** A codec that decodes every registered corolistener message type. */
export function createMessageCodec(): MessageCodec {
  // Configuration distribution (config-messages.ts): config.offer, config.ack, config.hello.
  // The ordered hand-over (handover-messages.ts): handover.
  return registerConfigMessages(new MessageCodec().register(FAILURE_RECORDS, validateFailureRecordsBody).register(HANDOVER, validateHandoverBody).register(OPERATOR, validateOperatorBody));
}
