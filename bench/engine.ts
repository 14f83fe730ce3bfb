// Engine benchmark: decisions per second and p99 time per decision for 3, 16 and 32-node
// views, measured side by side in one run. Writes its section of BENCHMARKS.md (between the
// engine markers) so the numbers there always come from a run.
//
//   npx tsc -p bench/tsconfig.json && node .bench-out/bench/engine.js
//
// Workload: the master's engine of an N-node cluster processing what corosync sends while
// slaves come and go: for each slave in turn, a quorum event without it (the master reports it
// failed, records and broadcasts the failure, persists state), the members' config versions,
// a quorum event with it back, and the versions again. Every call is one decision.
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { initialState, transition, type ClusterView, type EngineEvent, type EngineState } from '../src/engine';

const SIZES = [3, 16, 32];
const EVENTS = 200_000;
const ROUNDS = 7;
const TARGET_32 = 100_000;

function view(n: number): ClusterView {
  return {
    configVersion: 1,
    nodes: Array.from({ length: n }, (_, i) => ({ nodeId: i + 1, ip: `198.18.0.${i + 1}`, prio: 1000 - i, replication: true })),
    takeoverDelayMs: 0,
  };
}

function workload(n: number): { start: EngineState; events: EngineEvent[] } {
  const all = Array.from({ length: n }, (_, i) => i + 1);
  const versions = Object.fromEntries(all.map((id) => [id, 1]));
  let state = initialState(1, null);
  for (const e of [
    { type: 'config', now: 0, view: view(n) },
    { type: 'quorum', now: 0, quorate: true, ringId: { nodeId: 1, seq: 4 }, members: all },
    { type: 'configVersions', now: 0, versions },
  ] as EngineEvent[]) state = transition(state, e).state;
  if (state.role !== 'master') throw new Error(`benchmark setup: node 1 should be master, is ${state.role}`);
  const events: EngineEvent[] = [];
  let seq = 4;
  for (let k = 0; events.length < EVENTS; k++) {
    const leaver = 2 + (k % (n - 1));
    const without = all.filter((id) => id !== leaver);
    seq += 4;
    events.push({ type: 'quorum', now: seq, quorate: 2 * without.length > n, ringId: { nodeId: 1, seq }, members: without });
    events.push({ type: 'configVersions', now: seq, versions });
    seq += 4;
    events.push({ type: 'quorum', now: seq, quorate: true, ringId: { nodeId: 1, seq }, members: all });
    events.push({ type: 'configVersions', now: seq, versions });
  }
  return { start: state, events };
}

interface Result {
  nodes: number;
  decisionsPerSec: number;
  p50us: number;
  p99us: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function measure(n: number): Result {
  const { start, events } = workload(n);
  // Throughput: whole batch, no per-call timer overhead.
  const rates: number[] = [];
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    let state = start;
    const t0 = process.hrtime.bigint();
    for (const e of events) {
      const d = transition(state, e);
      state = d.state;
      sink += d.effects.length;
    }
    const ns = Number(process.hrtime.bigint() - t0);
    rates.push(events.length / (ns / 1e9));
  }
  // Latency: each decision timed on its own.
  const samples = new Float64Array(events.length);
  let state = start;
  for (let i = 0; i < events.length; i++) {
    const t0 = process.hrtime.bigint();
    const d = transition(state, events[i]);
    samples[i] = Number(process.hrtime.bigint() - t0);
    state = d.state;
    sink += d.effects.length;
  }
  samples.sort();
  if (sink === 0) throw new Error('benchmark produced no effects');
  return {
    nodes: n,
    decisionsPerSec: median(rates),
    p50us: samples[Math.floor(samples.length * 0.5)] / 1000,
    p99us: samples[Math.floor(samples.length * 0.99)] / 1000,
  };
}

function machine(): string {
  const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return `${availableParallelism()} CPUs (nproc), ${cpuModel}, ${Math.round(totalmem() / 2 ** 30)} GiB RAM, Node ${process.version}, ${process.platform} ${process.arch}`;
}

function main(): void {
  // Warm-up so that every size runs optimised code.
  for (const n of SIZES) measure(n);
  const results = SIZES.map(measure);
  const rows = results.map((r) => `| ${r.nodes} | ${Math.round(r.decisionsPerSec).toLocaleString('en-US')} | ${r.p50us.toFixed(2)} | ${r.p99us.toFixed(2)} |`);
  const at32 = results.find((r) => r.nodes === 32) as Result;
  const section = [
    '<!-- engine:begin (written by bench/engine.ts; do not edit by hand) -->',
    '## Decision engine',
    '',
    `Machine: ${machine()}. Run: ${new Date().toISOString().slice(0, 10)}.`,
    '',
    'Command: `npx tsc -p bench/tsconfig.json && node .bench-out/bench/engine.js`',
    '',
    `Workload: the master's engine processing membership churn (a slave leaves and rejoins, with the cmap config versions after each change), ${EVENTS.toLocaleString('en-US')} decisions per size; throughput is the median of ${ROUNDS} untimed-per-call batches, p50/p99 from timing every decision separately (includes ~0.1 µs timer overhead).`,
    '',
    '| nodes in view | decisions/s | p50 µs | p99 µs |',
    '|---:|---:|---:|---:|',
    ...rows,
    '',
    `Target: over ${TARGET_32.toLocaleString('en-US')} decisions/s for 32 nodes: ${at32.decisionsPerSec > TARGET_32 ? 'met' : 'NOT met'} (${(at32.decisionsPerSec / TARGET_32).toFixed(1)}x).`,
    '<!-- engine:end -->',
  ].join('\n');
  const file = join(__dirname, '..', '..', 'BENCHMARKS.md');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    text = '# Benchmarks\n\nEach section is written by the benchmark named in it.\n';
  }
  const re = /<!-- engine:begin[\s\S]*?<!-- engine:end -->/;
  text = re.test(text) ? text.replace(re, section) : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, text);
  console.log(section);
}

main();
