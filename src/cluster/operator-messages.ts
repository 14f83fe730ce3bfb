// An operator's command given on a node that does not write the configuration is forwarded to
// the one that does (the master) over CPG, and its answer comes back the same way (issue 18).
// The request changes the cluster's configuration, so both messages are signed with the cluster
// key (HMAC-SHA256 over the type and every other field, as the config messages are); the daemon
// drops anything unsigned, misaddressed or malformed.
import type { ClusterKey } from './cluster-key';

export const OPERATOR = 'operator';

export type OperatorBody =
  { phase: 'request'; id: string; to: number; args: string[]; timeoutMs: number; mac: string } | { phase: 'result'; id: string; to: number; ok: boolean; message: string; mac: string };

type Unsigned<T> = T extends unknown ? Omit<T, 'mac'> : never;

const MAX_ARGS = 12;
const MAX_ARG = 64;
const MAX_MESSAGE = 4096;

function parts(b: Unsigned<OperatorBody>): string[] {
  return b.phase === 'request' ? [OPERATOR, b.phase, b.id, String(b.to), JSON.stringify(b.args), String(b.timeoutMs)] : [OPERATOR, b.phase, b.id, String(b.to), String(b.ok), b.message];
}

export function signOperator(body: Unsigned<OperatorBody>, key: ClusterKey): OperatorBody {
  return { ...body, mac: key.mac(parts(body)) } as OperatorBody;
}

export function verifyOperator(body: OperatorBody, key: ClusterKey): boolean {
  const { mac, ...rest } = body;
  return key.verify(parts(rest as Unsigned<OperatorBody>), mac);
}

export function validateOperatorBody(body: unknown): OperatorBody {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('body must be an object');
  const b = body as Record<string, unknown>;
  const allowed = b.phase === 'request' ? ['phase', 'id', 'to', 'args', 'timeoutMs', 'mac'] : ['phase', 'id', 'to', 'ok', 'message', 'mac'];
  for (const k of Object.keys(b)) if (!allowed.includes(k)) throw new Error(`unknown field ${JSON.stringify(k)}`);
  if (typeof b.id !== 'string' || !/^[A-Za-z0-9._-]{1,64}$/.test(b.id)) throw new Error('id must be 1-64 characters [A-Za-z0-9._-]');
  if (typeof b.to !== 'number' || !Number.isSafeInteger(b.to) || b.to < 0) throw new Error('to must be a node id');
  if (typeof b.mac !== 'string' || !/^[0-9a-f]{64}$/.test(b.mac)) throw new Error('mac must be 64 hex digits');
  if (b.phase === 'request') {
    if (!Array.isArray(b.args) || b.args.length > MAX_ARGS || !b.args.every((a) => typeof a === 'string' && a.length <= MAX_ARG))
      throw new Error(`args must be at most ${MAX_ARGS} strings of ${MAX_ARG} characters`);
    if (typeof b.timeoutMs !== 'number' || !Number.isSafeInteger(b.timeoutMs) || b.timeoutMs < 0 || b.timeoutMs > 600_000) throw new Error('timeoutMs must be 0-600000');
    return { phase: 'request', id: b.id, to: b.to, args: b.args as string[], timeoutMs: b.timeoutMs, mac: b.mac };
  }
  if (b.phase !== 'result') throw new Error(`phase must be request or result, got ${JSON.stringify(b.phase)}`);
  if (typeof b.ok !== 'boolean') throw new Error('ok must be a boolean');
  if (typeof b.message !== 'string' || b.message.length > MAX_MESSAGE) throw new Error(`message must be a string of at most ${MAX_MESSAGE} characters`);
  return { phase: 'result', id: b.id, to: b.to, ok: b.ok, message: b.message, mac: b.mac };
}
