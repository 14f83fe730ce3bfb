// Engine benchmark: decisions per second and p99 time per decision for 3, 16 and 32-node
// views, measured side by side in one run (`npm run bench -- engine`).
//
// Workload: the master's engine of an N-node cluster processing what corosync sends while
// slaves come and go: for each slave in turn, a quorum event without it (the master reports it
// failed, records and broadcasts the failure, persists state), the members' config versions,
// a quorum event with it back, and the versions again. Every call is one decision.
import { initialState, transition, type ClusterView, type EngineEvent, type EngineState } from '../dist/engine';
import { table, verdict } from './lib/benchmarks-md';
import { envInt, type BenchPart } from './lib/part';
import { median, percentile } from './lib/stats';

const SIZES = [3, 16, 32];
const EVENTS = envInt('BENCH_ENGINE_EVENTS', 200_000);
const ROUNDS = envInt('BENCH_ENGINE_ROUNDS', 7);
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
  ] as EngineEvent[])
    state = transition(state, e).state;
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
    const d = transition(state, events[i]!);
    samples[i] = Number(process.hrtime.bigint() - t0);
    state = d.state;
    sink += d.effects.length;
  }
  if (sink === 0) throw new Error('benchmark produced no effects');
  return {
    nodes: n,
    decisionsPerSec: median(rates),
    p50us: median(samples) / 1000,
    p99us: percentile(samples, 99) / 1000,
  };
}

export const enginePart: BenchPart = {
  id: 'engine',
  title: 'Decision engine',
  source: 'bench/engine.ts',
  env: ['BENCH_ENGINE_EVENTS', 'BENCH_ENGINE_ROUNDS'],
  async run(ctx) {
    ctx.log('warm-up');
    // Warm-up so that every size runs optimised code.
    for (const n of SIZES) measure(n);
    const results = SIZES.map((n) => {
      ctx.log(`${n} nodes`);
      return measure(n);
    });
    const at32 = results.find((r) => r.nodes === 32)!;
    return [
      `Workload: the master's engine processing membership churn (a slave leaves and rejoins, with the cmap config versions after each change), ${EVENTS.toLocaleString('en-US')} decisions per size; throughput is the median of ${ROUNDS} untimed-per-call batches, p50/p99 from timing every decision separately (includes ~0.1 µs timer overhead).`,
      '',
      ...table(
        ['nodes in view', 'decisions/s', 'p50 µs', 'p99 µs'],
        results.map((r) => [String(r.nodes), Math.round(r.decisionsPerSec).toLocaleString('en-US'), r.p50us.toFixed(2), r.p99us.toFixed(2)]),
      ),
      '',
      `Target: over ${TARGET_32.toLocaleString('en-US')} decisions/s for 32 nodes: ${verdict(at32.decisionsPerSec > TARGET_32)} (${(at32.decisionsPerSec / TARGET_32).toFixed(1)}x).`,
    ];
  },
};
