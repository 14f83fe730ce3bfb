// Part 1, event latency vs the limit. On node n1 of a 3-node sandbox cluster, three processes
// track quorum: a minimal C client (bench/c/quorum-probe.c), corolistener's Quorum handle
// (js-probe.ts), and a second C client. n3 is cut off and healed again and again; for every
// resulting quorum change on n1 we compare the CLOCK_MONOTONIC time of the JS 'quorum' event
// with the earlier of the two C notifications. corosync notifies its IPC clients one after the
// other, so taking the earlier C client (one connected before, one after the JS one) as the
// reference never favours us.
import { join } from 'node:path';
import { createCluster } from '../../dist/sandbox';
import { SUMMARY_HEADERS, summaryRow, table, verdict } from '../lib/benchmarks-md';
import { buildC, cSource } from '../lib/build-c';
import { envInt, type BenchPart } from '../lib/part';
import { nodeProbe, type LineProbe } from '../lib/probe';
import { changeKey, parseQuorumLine, type QuorumSample } from '../lib/quorum-line';
import { summarize } from '../lib/stats';

const TARGET_MEDIAN_US = 1000;
const NODE = 1;
const FLAPPED = 3;
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface Change {
  action: 'cut' | 'heal';
  /** Monotonic ns just before the link change was requested. */
  triggerNs: bigint;
  /** The earlier of the two C notifications. */
  c: bigint;
  /** |first C − second C|: how far two identical clients differ, the noise floor of this machine. */
  cSpread: bigint;
  js: bigint;
  ring: string;
}

const sameMembers = (s: QuorumSample, ids: number[]): boolean => s.members.length === ids.length && ids.every((id) => s.members.includes(id));

const fmt = (x: number, digits: number): string => x.toFixed(digits);

/** corosync's token for this part: 500 ms, without the per-node coefficient (runtime 500 ms, detection ~1.1 s). */
const LATENCY_TOKEN = { tokenMs: 500, tokenCoefficientMs: 0 };

export const latencyPart: BenchPart = {
  id: 'latency',
  title: "Event latency: corolistener's 'quorum' event vs a minimal C client",
  source: 'bench/latency/index.ts',
  env: ['BENCH_LATENCY_CHANGES'],
  async run(ctx) {
    const changes = envInt('BENCH_LATENCY_CHANGES', 30);
    const probeBin = await buildC(cSource('quorum-probe'), ['libquorum']);
    ctx.log(`built ${probeBin}; creating a 3-node cluster`);
    // What is measured (who hears corosync's notification first) does not depend on how soon
    // corosync detects a cut; a shorter token only makes each of the changes quicker (the whole
    // benchmark run has a 20-minute budget).
    const cluster = await createCluster({ nodes: 3, ...LATENCY_TOKEN });
    const probes: Array<LineProbe<QuorumSample>> = [];
    try {
      // Connected one after the other, so corosync's notification order is C, JS, C (or reversed).
      const start = async (argv: string[]): Promise<LineProbe<QuorumSample>> => {
        const p = nodeProbe(cluster, NODE, argv, parseQuorumLine);
        probes.push(p);
        await p.ready();
        return p;
      };
      await start([probeBin]);
      await start([process.execPath, join(__dirname, 'js-probe.js')]);
      await start([probeBin]);
      const all = [1, 2, 3];
      for (const p of probes) await p.waitFor((s) => s.quorate && sameMembers(s, all), 'quorate with 1,2,3', 30_000);

      const results: Change[] = [];
      for (let i = 0; i < changes; i++) {
        const action = i % 2 === 0 ? 'cut' : 'heal';
        const expected = action === 'cut' ? [1, 2] : all;
        const from = probes.map((p) => p.samples.length);
        const triggerNs = process.hrtime.bigint();
        await (action === 'cut' ? cluster.cut(FLAPPED) : cluster.heal(FLAPPED));
        const [a, j, b] = await Promise.all(probes.map((p, k) => p.waitFor((s) => sameMembers(s, expected), `quorum event with members ${expected.join(',')}`, 30_000, from[k])));
        const keys = new Set([a!, j!, b!].map(changeKey));
        if (keys.size !== 1) throw new Error(`change ${i + 1}: the probes saw different quorum changes: ${[...keys].join(' / ')}`);
        const c = a!.monoNs < b!.monoNs ? a!.monoNs : b!.monoNs;
        const cSpread = a!.monoNs < b!.monoNs ? b!.monoNs - a!.monoNs : a!.monoNs - b!.monoNs;
        results.push({ action, triggerNs, c, cSpread, js: j!.monoNs, ring: changeKey(j!) });
        ctx.log(`change ${i + 1}/${changes} (${action} n${FLAPPED}): JS − C ${Number(j!.monoNs - c) / 1000} µs, C − C ${Number(cSpread) / 1000} µs`);
        await delay(300); // let the ring settle before the next change
      }
      for (const p of probes) await p.stop();
      return report(results);
    } finally {
      await Promise.all(probes.map((p) => p.stop()));
      await cluster.destroy();
    }
  },
};

function report(results: Change[]): string[] {
  const diffUs = results.map((r) => Number(r.js - r.c) / 1e3);
  const spreadUs = results.map((r) => Number(r.cSpread) / 1e3);
  const cMs = results.map((r) => Number(r.c - r.triggerNs) / 1e6);
  const jsMs = results.map((r) => Number(r.js - r.triggerNs) / 1e6);
  const d = summarize(diffUs);
  const c = summarize(cMs);
  const j = summarize(jsMs);
  return [
    `Workload: a 3-node sandbox cluster (real corosync, knet, token ${LATENCY_TOKEN.tokenMs} ms, token_coefficient 0: the changes come sooner, what is measured is the same); on n1, a minimal C libquorum client (\`bench/c/quorum-probe.c\`, poll() loop, built with \`cc -O2\` against libquorum), corolistener's \`Quorum\` handle in a Node process (\`bench/latency/js-probe.ts\`), and a second C client, connected in that order. n3 was cut off and healed alternately, ${results.length} quorum changes on n1. Each process reads CLOCK_MONOTONIC first thing in its callback (Node: \`process.hrtime.bigint()\` in the 'quorum' listener); the reference is the earlier of the two C clients, and the difference between the two C clients shows how much an identical client varies on this (shared) machine.`,
    '',
    ...table(
      SUMMARY_HEADERS,
      [
        summaryRow('JS event − C notification (µs)', diffUs),
        summaryRow('between the two C clients (µs): noise floor', spreadUs),
        summaryRow('C notification after the link change (ms)', cMs),
        summaryRow('JS event after the link change (ms)', jsMs),
      ],
      ['l'],
    ),
    '',
    `Ratio (median time from link change to the JS event / to the C notification): ${(j.median / c.median).toFixed(4)}.`,
    '',
    `Target: median difference under ${TARGET_MEDIAN_US / 1000} ms: ${verdict(d.median < TARGET_MEDIAN_US)} (median ${fmt(d.median, 1)} µs).`,
    '',
    '<details><summary>Every change</summary>',
    '',
    ...table(
      ['#', 'change', 'ring (node/seq/quorate/members)', 'C after link change (ms)', 'JS − C (µs)', 'C − C (µs)'],
      results.map((r, i) => [String(i + 1), `${r.action} n${FLAPPED}`, r.ring, fmt(cMs[i]!, 1), fmt(diffUs[i]!, 1), fmt(spreadUs[i]!, 1)]),
      ['r', 'l', 'l'],
    ),
    '',
    '</details>',
  ];
}
