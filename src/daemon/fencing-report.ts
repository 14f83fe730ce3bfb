// The fencing part of the daemon's reports (`status`, `-l --json`, the control socket): its
// shape, validated when it crosses the socket like the rest of report.ts, and its text in `status`.
import type { FencingReport } from './fencing-feeder';
import { parseNodeListReport, parseStatusReport, ReportShapeError, type NodeListReport, type StatusReport } from './report';

export type { FencingReport } from './fencing-feeder';

const WAITING_FOR = ['window', 'unknown-window', 'two-node-without-qdevice'] as const;

function object(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ReportShapeError(field, 'an object');
  return value as Record<string, unknown>;
}

function is<T>(ok: boolean, value: unknown, field: string, expected: string): T {
  if (!ok) throw new ReportShapeError(field, expected);
  return value as T;
}

const str = (v: unknown, f: string): string => is(typeof v === 'string', v, f, 'a string');
const nullableStr = (v: unknown, f: string): string | null => (v === null ? null : str(v, f));
const bool = (v: unknown, f: string): boolean => is(typeof v === 'boolean', v, f, 'true or false');
const int = (v: unknown, f: string): number => is(typeof v === 'number' && Number.isSafeInteger(v), v, f, 'an integer');
const num = (v: unknown, f: string): number => is(typeof v === 'number' && Number.isFinite(v), v, f, 'a number');

/** Validates an untrusted value as a FencingReport (absent in answers of daemons without fencing support). */
export function parseFencingReport(value: unknown, field: string): FencingReport | undefined {
  if (value === undefined) return undefined;
  const r = object(value, field);
  if (!Array.isArray(r.pending)) throw new ReportShapeError(`${field}.pending`, 'an array');
  return {
    enabled: bool(r.enabled, `${field}.enabled`),
    device: nullableStr(r.device, `${field}.device`),
    timeoutS: r.timeoutS === null ? null : num(r.timeoutS, `${field}.timeoutS`),
    armed: bool(r.armed, `${field}.armed`),
    feeding: bool(r.feeding, `${field}.feeding`),
    why: str(r.why, `${field}.why`),
    lastFeedAt: nullableStr(r.lastFeedAt, `${field}.lastFeedAt`),
    pending: r.pending.map((p, i) => {
      const f = `${field}.pending[${i}]`;
      const o = object(p, f);
      const waitingFor = str(o.waitingFor, `${f}.waitingFor`);
      if (!(WAITING_FOR as readonly string[]).includes(waitingFor)) throw new ReportShapeError(`${f}.waitingFor`, `one of ${WAITING_FOR.join(', ')}`);
      return { nodeId: int(o.nodeId, `${f}.nodeId`), leftAt: str(o.leftAt, `${f}.leftAt`), endsAt: nullableStr(o.endsAt, `${f}.endsAt`), waitingFor: waitingFor as (typeof WAITING_FOR)[number] };
    }),
  };
}

/** The `fencing:` lines of `corolistener status`. */
export function formatFencing(f: FencingReport | undefined): string[] {
  if (f === undefined) return [];
  if (!f.enabled) return [`fencing:  off (no WatchdogDevice in vmmgr.conf): this node is not reset when it hangs, restores do not wait for it`];
  const lines = [`fencing:  ${f.device} (timeout ${f.timeoutS} s), ${f.armed ? 'armed' : 'NOT armed'}, ${f.feeding ? 'fed' : 'NOT fed'}: ${f.why}; last feed ${f.lastFeedAt ?? 'never'}`];
  for (const p of f.pending) {
    const until = p.waitingFor === 'window' ? `until ${p.endsAt}` : p.waitingFor === 'unknown-window' ? 'its fence window is unknown' : 'two_node without a qdevice: never restored automatically';
    lines.push(`          restore of node ${p.nodeId} (left ${p.leftAt}) waits: ${until}`);
  }
  return lines;
}

/** parseNodeListReport with the daemon's fencing part, validated too. */
export function parseNodeListWithFencing(value: unknown): NodeListReport {
  const report = parseNodeListReport(value);
  const fencing = parseFencingReport(object(value, 'report').fencing, 'report.fencing');
  return fencing === undefined ? report : { ...report, fencing };
}

/** parseStatusReport with the daemon's fencing part, validated too. */
export function parseStatusWithFencing(value: unknown): StatusReport {
  const status = parseStatusReport(value);
  const fencing = parseFencingReport(object(value, 'status').fencing, 'status.fencing');
  return fencing === undefined ? status : { ...status, fencing };
}
