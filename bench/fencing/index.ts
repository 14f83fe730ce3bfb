// Part `fencing` (issue 15): failover with self-fencing on, side by side with it off. Two fresh
// 3-node clusters at the same time (the same machine load for both), VMs as processes
// (dist/sandbox/vm-agent.js), the master's link cut in both at the same moment. Measured from
// outside: cut -> the cluster IP on another node (polled), cut -> the master's VMs restored (the
// VM agent's own record of the restore), and, for reference, cut -> the new master's decision.
import { createCluster, DEFAULT_CLOUD_IP, FencingRig, holdersOf, restores, WATCHDOG_TIMEOUT_S, type SandboxCluster } from '../../dist/sandbox';
import { SUMMARY_HEADERS, summaryRow, table } from '../lib/benchmarks-md';
import { envInt, type BenchPart } from '../lib/part';
import { median } from '../lib/stats';

interface Run {
  fencing: boolean;
  ipMs: number;
  restoredMs: number;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(everyMs);
  }
}

async function ready(fencing: boolean): Promise<{ cluster: SandboxCluster; rig: FencingRig }> {
  const cluster = await createCluster({
    nodes: [
      { nodeId: 2, prio: 99 },
      { nodeId: 4, prio: 100 },
      { nodeId: 8, prio: 98 },
    ],
  });
  const rig = new FencingRig(cluster, { watchdog: fencing });
  try {
    await rig.start();
    await until('n4 holding the cluster IP', async () => ((await holdersOf(cluster, DEFAULT_CLOUD_IP)).join() === 'n4' ? true : undefined), 60_000, 200);
    // Settled: every daemon has decided (and with fencing, fed its watchdog at least once).
    await delay(3000);
  } catch (err) {
    await rig.stop();
    await cluster.destroy();
    throw err;
  }
  return { cluster, rig };
}

/** Resolves for every caller, with one time, once `n` callers have arrived. */
function barrier(n: number): () => Promise<number> {
  let arrived = 0;
  let release!: (at: number) => void;
  const all = new Promise<number>((r) => (release = r));
  return () => {
    arrived += 1;
    if (arrived === n) release(Date.now());
    return all;
  };
}

async function failover(fencing: boolean, bothReady: () => Promise<number>): Promise<Run> {
  const { cluster, rig } = await ready(fencing).catch((err: unknown) => {
    void bothReady(); // the other run must not wait for this one forever
    throw err;
  });
  try {
    const t0 = await bothReady();
    await cluster.cut('n4');
    const [ipAt, restoredAt] = await Promise.all([
      until(
        'the cluster IP on a survivor',
        async () => {
          const h = await holdersOf(cluster, DEFAULT_CLOUD_IP);
          return h.length === 1 && h[0] !== 'n4' ? Date.now() : undefined;
        },
        60_000,
      ),
      until(
        'n4 VMs restored',
        () => {
          const r = restores(cluster).filter((x) => x.from === 4);
          return r.length >= 2 ? Math.max(...r.map((x) => x.ms)) : undefined;
        },
        60_000,
        100,
      ),
    ]);
    return { fencing, ipMs: ipAt - t0, restoredMs: restoredAt - t0 };
  } finally {
    await rig.stop();
    await cluster.destroy();
  }
}

export const fencingPart: BenchPart = {
  id: 'fencing',
  title: 'Failover with self-fencing on vs off, side by side',
  source: 'bench/fencing/index.ts',
  env: ['BENCH_FENCING_RUNS'],
  async run(ctx) {
    const count = envInt('BENCH_FENCING_RUNS', 3);
    const runs: Run[] = [];
    for (let i = 0; i < count; i++) {
      // Both cut at the same moment, once both clusters are settled.
      const bothReady = barrier(2);
      const both = Promise.all([failover(true, bothReady), failover(false, bothReady)]);
      const [on, off] = await both;
      runs.push(on, off);
      ctx.log(`${i + 1}/${count} fencing on: IP ${on.ipMs} ms, VMs restored ${on.restoredMs} ms; off: IP ${off.ipMs} ms, VMs restored ${off.restoredMs} ms`);
    }
    const of = (fencing: boolean, key: 'ipMs' | 'restoredMs'): number[] => runs.filter((r) => r.fencing === fencing).map((r) => r[key]);
    return [
      `Workload: ${count} runs; in each, two fresh 3-node sandbox clusters (token 1000 ms) are set up at the same time, one with self-fencing (WatchdogTimeout ${WATCHDOG_TIMEOUT_S} s, a fake watchdog per node reading its FIFO) and one without, with \`corolistener run\` on every node and two VMs per node as processes (\`dist/sandbox/vm-agent.js\`: suspend = SIGSTOP, restore = a new process on the master); once both are settled, both masters' links are cut at the same moment. Cut → cluster IP: polled every 50 ms with \`ip -j addr\` in every node (a resolution of about 50-100 ms, the process starts included). Cut → VMs restored: the VM agent's own record of the restore on the new master.`,
      '',
      ...table(
        SUMMARY_HEADERS,
        [
          summaryRow('fencing off: cut → cluster IP on the new master (ms)', of(false, 'ipMs')),
          summaryRow('fencing on: cut → cluster IP on the new master (ms)', of(true, 'ipMs')),
          summaryRow('fencing off: cut → VMs restored (ms)', of(false, 'restoredMs')),
          summaryRow('fencing on: cut → VMs restored (ms)', of(true, 'restoredMs')),
        ],
        ['l'],
      ),
      '',
      `The fence window the cut master announced: WatchdogTimeout ${WATCHDOG_TIMEOUT_S * 1000} ms + corosync's token + consensus (+10%) + 2000 ms; cut → VMs restored with fencing on is detection + that window + the restore. Difference of medians (on − off): cluster IP ${(median(of(true, 'ipMs')) - median(of(false, 'ipMs'))).toFixed(0)} ms, VMs restored ${(median(of(true, 'restoredMs')) - median(of(false, 'restoredMs'))).toFixed(0)} ms.`,
    ];
  },
};
