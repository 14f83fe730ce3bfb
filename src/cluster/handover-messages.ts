// The ordered hand-over's CPG messages (src/engine/operations.ts): a master that stepped down
// announces its release, a master announces itself after its takeover and once per ring. Like the
// failure records they carry no corosync.conf, so they are not signed: CPG delivers them only
// between members of the ring (authenticated by corosync's own crypto where it is on). The
// timings let the new master measure the gap with no cluster-IP holder (issue 18).
export const HANDOVER = 'handover';

export interface HandoverBody {
  phase: 'released' | 'taken';
  /** released: ms between this node's removal of the cluster IP and this message (null: it did not hold it). */
  ipFreeMs: number | null;
  /** taken: the old master whose release this takeover waited for (null: none, a plain announcement). */
  from: number | null;
  /** taken: ms between the release's arrival here and the cluster IP held here (null: not measured). */
  heldAfterMs: number | null;
}

function msOrNull(value: unknown, field: string): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 86_400_000) throw new Error(`${field} must be null or milliseconds (0 to one day), got ${JSON.stringify(value)}`);
  return value;
}

export function validateHandoverBody(body: unknown): HandoverBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('body must be an object');
  const b = body as Record<string, unknown>;
  for (const key of Object.keys(b)) if (!['phase', 'ipFreeMs', 'from', 'heldAfterMs'].includes(key)) throw new Error(`unknown field ${JSON.stringify(key)}`);
  if (b.phase !== 'released' && b.phase !== 'taken') throw new Error(`phase must be released or taken, got ${JSON.stringify(b.phase)}`);
  const from = b.from ?? null;
  if (from !== null && (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0)) throw new Error(`from must be null or a node id, got ${JSON.stringify(from)}`);
  return { phase: b.phase, ipFreeMs: msOrNull(b.ipFreeMs ?? null, 'ipFreeMs'), from, heldAfterMs: msOrNull(b.heldAfterMs ?? null, 'heldAfterMs') };
}
