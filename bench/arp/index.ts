// Part `arp`: how long a live holder takes to answer the duplicate-address probe, which is what
// the probe's listening window (src/actions/arping.ts, DEFAULT_DAD_WINDOW_MS) must cover. Measured
// through the daemon's own code path (the addon's ArpProbe via NativeNetwork) in a sandbox
// cluster: node n1 holds the cluster IP, node n2 probes for it; quiet, then with one busy loop
// per core (scripts/test-under-load's load). Also what a probe of a free address costs in all.
import { cpus } from 'node:os';
import { createCluster, DEFAULT_CLOUD_IP, type SandboxCluster } from '../../dist/sandbox';
import { DEFAULT_DAD_WINDOW_MS } from '../../dist/actions/arping';
import { SUMMARY_HEADERS, summaryRow, table, verdict } from '../lib/benchmarks-md';
import { underLoad } from '../lib/cpu-hogs';
import { envInt, type BenchPart } from '../lib/part';
import { repoPath } from '../lib/paths';
import { percentile } from '../lib/stats';

const AGENT = repoPath('.bench-out', 'arp', 'rtt-agent.js');
const FREE_IP = '198.18.0.101';

interface Probe {
  ms: number;
  kernelMs?: number;
  holders: string[];
}

async function probes(cluster: SandboxCluster, ip: string, windowMs: number, count: number): Promise<Probe[]> {
  const r = await cluster.exec('n2', [process.execPath, AGENT, 'vmbr0', ip, String(windowMs), String(count)], { mountNs: false, timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`rtt-agent in n2: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Probe[];
}

export const arpPart: BenchPart = {
  id: 'arp',
  title: 'ARP: a live holder’s answer to the duplicate-address probe (the listening window)',
  source: 'bench/arp/index.ts',
  env: ['BENCH_ARP_PROBES'],
  async run(ctx) {
    const count = envInt('BENCH_ARP_PROBES', 300);
    const cluster = await createCluster({ nodes: 2, formTimeoutMs: 120_000 });
    try {
      const added = await cluster.exec('n1', ['ip', 'addr', 'add', `${DEFAULT_CLOUD_IP}/24`, 'dev', 'vmbr0'], { mountNs: false });
      if (added.code !== 0) throw new Error(`ip addr add in n1: ${added.stderr}`);
      const measure = async (label: string) => {
        // A 1 s window: long enough that the holder's answer, not the window, ends each probe.
        const held = await probes(cluster, DEFAULT_CLOUD_IP, 1000, count);
        const free = await probes(cluster, FREE_IP, DEFAULT_DAD_WINDOW_MS, Math.ceil(count / 5));
        const missed = held.filter((p) => p.holders.length === 0).length;
        const wrong = free.filter((p) => p.holders.length > 0).length;
        if (wrong > 0) throw new Error(`${label}: ${wrong} probes of the free ${FREE_IP} were answered`);
        const answered = held.filter((p) => p.holders.length > 0 && p.kernelMs !== undefined);
        const kernel = answered.map((p) => p.kernelMs!);
        ctx.log(
          `${label}: ${held.length} probes of the holder, answer median ${percentile(kernel, 50).toFixed(3)} ms, max ${Math.max(...kernel).toFixed(3)} ms (in JS: max ${Math.max(...answered.map((p) => p.ms)).toFixed(2)} ms), ${missed} unanswered`,
        );
        return { label, kernel, js: answered.map((p) => p.ms), missed, free: free.map((p) => p.ms) };
      };
      const quiet = await measure('quiet');
      const loaded = await underLoad(() => measure(`loaded (${cpus().length} busy loops)`));
      const worstP99 = Math.max(percentile(quiet.kernel, 99), percentile(loaded.kernel, 99));
      const worstMax = Math.max(...quiet.kernel, ...loaded.kernel);
      const over = (xs: number[]) => xs.filter((x) => x > DEFAULT_DAD_WINDOW_MS).length;
      return [
        `Workload: a 2-node sandbox cluster (corosync running); node n1 holds ${DEFAULT_CLOUD_IP} on vmbr0, node n2 sends RFC 5227 probes for it through the daemon's own code path (the addon's ArpProbe via \`NativeNetwork.probe\`, \`bench/arp/rtt-agent.ts\`), one at a time, ${count} with a 1 s window (ended by the holder's answer). The answer time is from just before the probe is sent to the kernel's receive timestamp of the answer (SO_TIMESTAMPNS on the probe's socket): what the window must cover, since when the window's timer fires the addon first reads every answer already queued, however late the daemon itself gets the CPU. The time until JS has the outcome (our own scheduling included) is listed for comparison. Then ${Math.ceil(count / 5)} probes of a free address with the default window (${DEFAULT_DAD_WINDOW_MS} ms): what the check costs when nobody answers. Quiet, then with one busy loop per core (\`bash -c 'while :; do :; done'\`, as scripts/test-under-load) beside whatever else the machine runs.`,
        '',
        ...table(
          SUMMARY_HEADERS,
          [
            summaryRow(`quiet: holder's answer received after (ms, ${quiet.kernel.length} probes)`, quiet.kernel, 3),
            summaryRow(`loaded: holder's answer received after (ms, ${loaded.kernel.length} probes)`, loaded.kernel, 3),
            summaryRow('quiet: … and seen in JS after (ms)', quiet.js, 2),
            summaryRow('loaded: … and seen in JS after (ms)', loaded.js, 2),
            summaryRow(`quiet: free address, probe done after (ms, window ${DEFAULT_DAD_WINDOW_MS})`, quiet.free, 2),
            summaryRow(`loaded: free address, probe done after (ms, window ${DEFAULT_DAD_WINDOW_MS})`, loaded.free, 2),
          ],
          ['l'],
        ),
        '',
        `Unanswered within 1 s: quiet ${quiet.missed}, loaded ${loaded.missed}. Answers later than the ${DEFAULT_DAD_WINDOW_MS} ms window: quiet ${over(quiet.kernel)} of ${quiet.kernel.length}, loaded ${over(loaded.kernel)} of ${loaded.kernel.length} (max ${worstMax.toFixed(3)} ms).`,
        '',
        `Target: the window (${DEFAULT_DAD_WINDOW_MS} ms) above the holder's p99 answer time, quiet and loaded: ${verdict(worstP99 < DEFAULT_DAD_WINDOW_MS)} (worst p99 ${worstP99.toFixed(3)} ms).`,
      ];
    } finally {
      await cluster.destroy();
    }
  },
};
