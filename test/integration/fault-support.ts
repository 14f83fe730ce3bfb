// The fault matrix's harness: a scenario runs against a sandbox cluster with listeners on every
// node while a ClusterMonitor samples it every 100 ms; each fault is followed by settle(), which
// measures the time to settle. Results (runs, passed, violations, time to settle) are collected
// per scenario and written to RELIABILITY.md by writeReliabilityReport(), never by hand.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { ClusterMonitor, type SandboxCluster, type SandboxListener, type Violation } from '../../src/sandbox';
import { diagnostics } from './listener-support';

export interface ScenarioResult {
  name: string;
  nodes: number;
  runs: number;
  passed: number;
  violations: Violation[];
  /** Every settle() of every run, ms (null: did not settle in time). */
  settleMs: Array<number | null>;
  /** Longest gap between two monitor samples over all runs. */
  maxSampleGapMs: number;
  samples: number;
}

export interface ScenarioContext {
  cluster: SandboxCluster;
  listeners: Map<string, SandboxListener>;
  monitor: ClusterMonitor;
  /** Marks the moment a fault (or its repair) is injected: settle() measures from the last mark. */
  fault(): void;
  /** Waits until the cluster settled after the last fault; records the time it took. */
  settle(label: string, timeoutMs?: number): Promise<number | null>;
  /** The node whose listener reported master when the cluster last settled. */
  master(): string;
  /** Nodes that are not the master. */
  slaves(): string[];
}

/** Generous: a settle returns as soon as it holds; under heavy load corosync and the listeners answer late. */
export const SETTLE_TIMEOUT_MS = 90_000;
/** A settle this slow passes but keeps the logs (FAULTS_LOG_DIR): outliers deserve a post-mortem. */
const SLOW_SETTLE_MS = 15_000;
/** A scenario starts from the previous one's end, already settled unless that one failed. */
const INITIAL_SETTLE_TIMEOUT_MS = 90_000;

export class FaultRecorder {
  readonly results = new Map<string, ScenarioResult>();

  /** Runs `body` once as one run of scenario `name`; throws (after recording) on violations or errors. */
  async run(name: string, cluster: SandboxCluster, listeners: Map<string, SandboxListener>, body: (ctx: ScenarioContext) => Promise<void>): Promise<void> {
    const result = this.results.get(name) ?? {
      name,
      nodes: cluster.nodes.length,
      runs: 0,
      passed: 0,
      violations: [],
      settleMs: [],
      maxSampleGapMs: 0,
      samples: 0,
    };
    this.results.set(name, result);
    const monitor = new ClusterMonitor(cluster, listeners);
    let since = Date.now();
    const ctx: ScenarioContext = {
      cluster,
      listeners,
      monitor,
      fault: () => {
        since = Date.now();
      },
      settle: async (label, timeoutMs = SETTLE_TIMEOUT_MS) => {
        const r = await monitor.settle(since, timeoutMs);
        result.settleMs.push(r.settleMs);
        if (r.settleMs === null) {
          keepLogs(name, listeners);
          throw new Error(`${name}: ${label}: not settled after ${timeoutMs} ms:\n${r.problems.map((p) => p.detail).join('\n')}\n${diagnostics(listeners)}`);
        }
        if (r.settleMs > SLOW_SETTLE_MS) keepLogs(name, listeners, `slow-${label}`);
        return r.settleMs;
      },
      master: () => {
        const sample = monitor.settledSample;
        const masters = sample?.nodes.filter((n) => n.listener?.role === 'master').map((n) => n.name) ?? [];
        if (masters.length !== 1) {
          throw new Error(`${name}: expected one master in the last settled sample, listeners report [${masters.join(', ')}]: ${JSON.stringify(sample)}`);
        }
        return masters[0]!;
      },
      slaves: () => cluster.nodes.map((n) => n.name).filter((n) => n !== ctx.master()),
    };
    result.runs++;
    monitor.start();
    let failure: unknown;
    try {
      // The starting point (the previous scenario's end) must be settled too; not counted.
      const initial = await monitor.settle(Date.now(), INITIAL_SETTLE_TIMEOUT_MS);
      if (initial.settleMs === null) throw new Error(`${name}: not settled before the first fault:\n${initial.problems.map((p) => p.detail).join('\n')}`);
      await body(ctx);
    } catch (err) {
      failure = err;
    }
    const violations = await monitor.stop();
    result.violations.push(...violations);
    result.samples += monitor.samples;
    result.maxSampleGapMs = Math.max(result.maxSampleGapMs, monitor.maxGapMs);
    if (failure === undefined && violations.length === 0) {
      result.passed++;
      return;
    }
    keepLogs(name, listeners);
    const lines = violations.map((v) => `  ${new Date(v.at).toISOString()} ${v.invariant}: ${v.detail}`);
    const why = failure instanceof Error ? failure.message : failure === undefined ? '' : inspect(failure);
    throw new Error(`${name}: ${violations.length} invariant violation(s)${why ? `; ${why}` : ''}\n${lines.join('\n')}\n${diagnostics(listeners)}`);
  }
}

/**
 * FAULTS_LOG_DIR=dir keeps every node's whole daemon log when a scenario fails, does not settle
 * or settles slowly (the sandbox and its logs are gone once it cleaned up), for the post-mortem.
 */
function keepLogs(scenario: string, listeners: Map<string, SandboxListener>, why = 'failed'): void {
  const dir = process.env['FAULTS_LOG_DIR'];
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const slug = `${scenario.slice(0, 60)}-${why.slice(0, 40)}`.replace(/[^A-Za-z0-9]+/g, '-');
  for (const l of listeners.values()) {
    try {
      fs.copyFileSync(l.hostPath('log'), path.join(dir, `${slug}-${l.node.name}-${Date.now()}.log`));
    } catch {
      // no log yet: nothing to keep
    }
  }
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : Math.round((s[mid - 1]! + s[mid]!) / 2);
}

/** RELIABILITY.md: one table row per scenario, generated from the recorded results. */
export function renderReliabilityReport(results: readonly ScenarioResult[], meta: { command: string; started: Date; finished: Date }): string {
  const fmt = (ms: number | null) => (ms === null ? '-' : `${(ms / 1000).toFixed(1)} s`);
  const rows = results.map((r) => {
    const settled = r.settleMs.filter((m): m is number => m !== null);
    const unsettled = r.settleMs.length - settled.length;
    return `| ${r.name.replace(/\|/g, '&#124;')} | ${r.nodes} | ${r.runs} | ${r.passed} | ${r.violations.length} | ${fmt(median(settled))} | ${fmt(settled.length ? Math.max(...settled) : null)} | ${unsettled} | ${r.samples} | ${r.maxSampleGapMs} ms |`;
  });
  const violationLines = results.flatMap((r) => r.violations.map((v) => `- ${r.name}: ${new Date(v.at).toISOString()} **${v.invariant}**: ${v.detail}`));
  const cpus = os.cpus();
  return [
    '# Reliability: the fault matrix',
    '',
    'Generated by the fault suite (`test/integration/faults.test.ts`); do not edit by hand.',
    `Command: \`${meta.command}\`; run ${meta.started.toISOString()} to ${meta.finished.toISOString()}.`,
    `Machine: ${cpus.length} × ${cpus[0]?.model ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Linux ${os.release()}, Node ${process.version}; real corosync in network namespaces (token 1000 ms).`,
    '',
    'Each run: a sandbox cluster with a listener (`corolistener run`) on every node; a monitor samples every node every 100 ms',
    "(reachability from the hub, corosync running, the listener's control socket, cluster IP holders, corosync.conf digest) and records",
    'violations of: at most one cluster-IP holder among nodes that reach each other; one master per quorate membership (exactly one once',
    'settled); identical corosync.conf on every member once settled; no VM resumed on a node after a master elsewhere restored it.',
    '"Settle" is the time from a fault (or its repair) until the whole cluster is in its settled state; every fault and repair counts.',
    '',
    '| scenario | nodes | runs | passed | violations | settle (median) | settle (max) | not settled | samples | max sample gap |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    violationLines.length ? '## Violations' : 'No invariant violations.',
    ...violationLines,
    '',
  ].join('\n');
}

export function writeReliabilityReport(path: string, results: readonly ScenarioResult[], meta: { command: string; started: Date; finished: Date }): void {
  fs.writeFileSync(path, renderReliabilityReport(results, meta));
}
