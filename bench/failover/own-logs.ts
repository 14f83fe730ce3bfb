// The two reaction moments only the contender itself knows, read from its own log: when it
// decided to become master, and when it spawned ServiceStartCommand.
import * as fs from 'node:fs';
import type { SandboxCluster, SandboxListener } from '../../dist/sandbox';

export interface OwnTimes {
  decisionMs?: number;
  spawnMs?: number;
  /** corolistener: the steps of the takeover plan up to startService, with their logged durations. */
  steps?: Array<{ effect: string; durationMs: number }>;
}

/**
 * corolistener's pino log: the first `decision` line with role master at or after `sinceMs`,
 * then the `startService` step's start (the step line is written when the command has exited,
 * with its duration).
 */
export function daemonTimes(listener: SandboxListener, sinceMs: number): OwnTimes {
  const lines = listener.logLines().map((l): Record<string, unknown> & { ms: number } => ({ ...l, ms: Date.parse(String(l.time)) }));
  // Log times are whole ms: a line in the same ms as the cut counts.
  const decision = lines.find((l) => l.ms >= Math.floor(sinceMs) && l.event === 'decision' && l.role === 'master');
  if (decision === undefined) return {};
  const steps = lines.filter((l) => l.ms >= decision.ms && l.event === 'step');
  const end = steps.findIndex((l) => l.effect === 'startService' && l.outcome === 'ok');
  if (end < 0) return { decisionMs: decision.ms };
  const start = steps[end]!;
  return {
    decisionMs: decision.ms,
    spawnMs: start.ms - Number(start.durationMs),
    steps: steps.slice(0, end + 1).map((l) => ({ effect: String(l.effect), durationMs: Number(l.durationMs) })),
  };
}

/** What the node sees as /tmp/baseline.log: "<unix s.µs> <event> [detail]" lines. */
export const BASELINE_LOG = '/tmp/baseline.log';

/** The polling baseline's log on `node`: its `master` line and its `service-started` line after `sinceMs`. */
export function baselineTimes(cluster: SandboxCluster, node: string, sinceMs: number): OwnTimes {
  let text: string;
  try {
    text = fs.readFileSync(cluster.hostPath(node, BASELINE_LOG), 'utf8');
  } catch {
    return {};
  }
  const events = text
    .split('\n')
    .map((l) => /^(\d+\.\d+) (\S+)/.exec(l))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => ({ ms: Number(m[1]) * 1000, event: m[2] }))
    .filter((e) => e.ms >= sinceMs);
  const decision = events.find((e) => e.event === 'master');
  const spawn = decision && events.find((e) => e.ms >= decision.ms && e.event === 'service-started');
  return { decisionMs: decision?.ms, spawnMs: spawn?.ms };
}
