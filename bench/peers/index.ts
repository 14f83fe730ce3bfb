// Part `peers` (issue 16): corolistener at corosync's defaults and with the fast detection
// profile, keepalived at its default and a tuned advertisement interval, and Pacemaker with
// IPaddr2, interleaved run by run in one invocation: in each round every system gets a fresh
// 3-node sandbox cluster and its master's link cut, one system after the other (the order
// rotates by round), so all of them see the same machine over the same minutes.
import { writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { repoPath } from '../lib/paths';
import type { BenchPart } from '../lib/part';
import { envInt } from '../lib/part';
import { ensurePeers } from './ensure-peers';
import { peerRun, type PeerRun } from './peer-run';
import { describeRun, peersSection } from './section';
import { SYSTEMS } from './systems';
import { buildC, cSource } from '../lib/build-c';

export const peersPart: BenchPart = {
  id: 'peers',
  title: 'Peers: corolistener vs keepalived and Pacemaker, cut → cluster IP',
  source: 'bench/peers/index.ts',
  env: ['BENCH_PEERS_RUNS'],
  // About 10 minutes (9.5 in the last run, 10 runs per system): with it `npm run bench` would not fit its 20 minutes.
  optIn: true,
  async run(ctx) {
    const runs = envInt('BENCH_PEERS_RUNS', 10);
    const versions = await ensurePeers((m) => ctx.log(m));
    ctx.log(versions);
    const tools = { quorumProbe: await buildC(cSource('quorum-probe'), ['libquorum']) };
    const results = new Map<string, PeerRun[]>(SYSTEMS.map((s) => [s.id, []]));
    const t0 = Date.now();
    const loadAtStart = loadavg()[0]!;
    for (let round = 0; round < runs; round++) {
      for (let k = 0; k < SYSTEMS.length; k++) {
        const system = SYSTEMS[(round + k) % SYSTEMS.length]!;
        let phases = '';
        const r = await peerRun(
          system,
          tools,
          (p) => (phases = `cluster ${p.cluster.toFixed(1)} s, settle ${p.settle.toFixed(1)} s, failover ${p.failover.toFixed(1)} s, teardown ${p.teardown.toFixed(1)} s`),
        );
        results.get(system.id)!.push(r);
        ctx.log(`${round + 1}/${runs} ${describeRun(system, r)} [${phases}]`);
      }
    }
    // The raw runs, to look into a figure after the fact (not committed: .bench-out is build output).
    writeFileSync(repoPath('.bench-out', 'peers-runs.json'), JSON.stringify(Object.fromEntries(results), null, 1));
    return peersSection({ systems: SYSTEMS, results, versions, seconds: (Date.now() - t0) / 1000, loadAtStart });
  },
};
