// Part 5: listeners through many membership changes (n3's link flapped) in a 3-node cluster:
// RSS, V8 heap after a full GC and open fds of every listener after 0, 100 and all changes.
//
// The soak measures the listeners, not corosync, so its cluster is tuned for fast changes
// (each change waits until corosync has formed the new membership):
//   - token 130 ms (corosync's minimum with its default 4 retransmits: token_retransmit may not
//     be under 30 ms) and token_coefficient 0: the default adds 650 ms per node above two,
//     which made a 3-node cluster's token 850 ms and every cut take ~1.9 s;
//   - knet's link pings time out after 2 s: a cut (~0.3 s) then never takes knet's link down,
//     which after a heal would wait for knet's own up-detection (1–2 s, on its coarse timers);
//     the membership changes come from totem's token loss alone;
//   - static ARP entries between the nodes: after a cut, the kernel's ARP entry for the cut
//     node fails and the first packets after the heal wait up to its 1 s retransmit time.
// With these, a cut takes token + consensus (~0.3 s) and a heal totem's merge detection
// (≤ 0.2 s) instead of 1.5 s per change on average.
//
// What the RSS growth between 100 and 1000 changes was, when this benchmark was written (not
// measured by every run): heap snapshots at 100 and 1000 changes differed in V8's code objects,
// feedback and deoptimization data, not in the program's objects; glibc's malloc_stats (gdb)
// at 100 and 600 changes showed the same bytes in use (7.7 MiB) while the arenas of V8's worker
// threads kept ~2 MiB each of freed memory; the rest was libqb's IPC ring pages becoming
// resident as messages first touched them (populated at connect since: native/ipc_rings.h).
// Issue 16, A/B clusters side by side with V8's space statistics per checkpoint: V8's young
// generation grew from 1 to 16 MiB semi-spaces after bursts of changes (0 to 32 MiB resident,
// which made RSS swing between 73 and 89 MiB from one checkpoint to the next) and the 6-7 malloc
// arenas from 1.5 to 7 MiB; the unit's NODE_OPTIONS=--max-semi-space-size=1 and
// MALLOC_ARENA_MAX=2 (which the sandbox applies) bound both, at the same CPU per change, and its
// MALLOC_MMAP_THRESHOLD_=131072 kept glibc's main heap at 3 MiB instead of 6-9.
import { readFileSync } from 'node:fs';
import { macOf, type SandboxCluster } from '../../dist/sandbox';
import { parseUnitEnvironment, serviceUnitPath } from '../../dist/sandbox/service-environment';
import { table, verdict } from '../lib/benchmarks-md';
import { buildC, cSource } from '../lib/build-c';
import { median } from '../lib/stats';
import { envInt, type BenchPart } from '../lib/part';
import { procUsage, rssBreakdown, type ProcUsage, type RssBreakdown } from '../lib/proc-usage';
import { nodeProbe } from '../lib/probe';
import { parseQuorumLine } from '../lib/quorum-line';
import { instrumentedListenerEnv, memoryAfterGc, type MemoryLine } from './instrument';
import { commandsDone, mib, pidOf, settle, withListeners } from './listeners';

const DEFAULT_SOAK_CHANGES = 1000;
const soakChanges = (): number => envInt('BENCH_SOAK_CHANGES', DEFAULT_SOAK_CHANGES, 2);
/** corosync refuses a smaller token with its default token_retransmits_before_loss_const (4). */
const MIN_TOKEN_MS = 130;
const KNET_PING = { intervalMs: 100, timeoutMs: 2000 };
/** Growth between the 100th and the last change still counted as noise. */
const NOISE = 0.1;

/** Permanent ARP entries for every other node on every node (see the top of this file). */
async function pinNeighbours(cluster: SandboxCluster): Promise<void> {
  const macs = new Map(await Promise.all(cluster.nodes.map(async (n) => [n.name, await macOf(cluster, n.name)] as const)));
  await Promise.all(
    cluster.nodes.flatMap((n) =>
      cluster.nodes
        .filter((other) => other !== n)
        .map(async (other) => {
          const argv = ['ip', 'neigh', 'replace', other.address, 'lladdr', macs.get(other.name)!, 'dev', 'vmbr0', 'nud', 'permanent'];
          const r = await cluster.exec(n.name, argv, { mountNs: false });
          if (r.code !== 0) throw new Error(`node ${n.name}: ${argv.join(' ')}: ${r.stderr.trim()}`);
        }),
    ),
  );
}

interface Checkpoint {
  usage: ProcUsage[];
  rss: RssBreakdown[];
  memory: MemoryLine[];
}

const pct = (g: number): string => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
const mibOfBytes = (b: number): string => (b / 1048576).toFixed(2);
/** Compiled code and bytecode (with their metadata) on the heap: what V8 made of the program. */
const codeOf = (m: MemoryLine): number => m.codeAndMetadata + m.bytecodeAndMetadata;
/** The rest of the heap in use after GC: the program's own data (and V8's per-object bookkeeping). */
const dataOf = (m: MemoryLine): number => m.heapUsed - codeOf(m);

export const soakPart: BenchPart = {
  id: 'soak',
  title: 'Soak: listeners through many membership changes',
  source: 'bench/cost/soak.ts',
  env: ['BENCH_SOAK_CHANGES', 'BENCH_SOAK_TOKEN_MS'],
  sectionId: () => (soakChanges() === DEFAULT_SOAK_CHANGES ? 'soak' : `soak-${soakChanges()}`),
  async run(ctx) {
    const changes = soakChanges();
    const tokenMs = envInt('BENCH_SOAK_TOKEN_MS', MIN_TOKEN_MS, MIN_TOKEN_MS);
    const checkpoints = [...new Set([Math.min(100, changes), changes])].map((n) => n + (n % 2)); // after a heal
    const probeBin = await buildC(cSource('quorum-probe'), ['libquorum']);
    const options = {
      cluster: { tokenMs, tokenCoefficientMs: 0, knetPing: KNET_PING },
      listener: { env: instrumentedListenerEnv({ traceGc: false }) },
      prepare: pinNeighbours,
    };
    const unitEnv = Object.entries(parseUnitEnvironment(readFileSync(serviceUnitPath(), 'utf8')))
      .map(([k, v]) => `\`${k}=${v}\``)
      .join(', ');
    return withListeners(ctx, options, async (cluster, listeners) => {
      const measure = async (): Promise<Checkpoint> => {
        await settle(listeners, 2_000);
        await commandsDone(listeners);
        const usage = listeners.map((l) => procUsage(pidOf(l)));
        const rss = listeners.map((l) => rssBreakdown(pidOf(l)));
        const memory: MemoryLine[] = [];
        for (const l of listeners) memory.push(await memoryAfterGc(l));
        return { usage, rss, memory };
      };
      const at = new Map<number, Checkpoint>([[0, await measure()]]);
      const probe = nodeProbe(cluster, 1, [probeBin], parseQuorumLine);
      let elapsed: number;
      const times = { cut: [] as number[], heal: [] as number[], ip: [] as number[] };
      const last = checkpoints.at(-1)!;
      try {
        await probe.ready();
        const t0 = Date.now();
        let waiting = 0;
        for (let i = 1; i <= last; i++) {
          const cut = i % 2 === 1;
          const from = probe.samples.length;
          const before = Date.now();
          await (cut ? cluster.cut(3) : cluster.heal(3));
          const linkSet = Date.now();
          const seen = await probe.waitFor((s) => s.members.includes(3) !== cut, `membership change ${i} (${cut ? 'cut' : 'heal'} n3)`, 60_000, from);
          (cut ? times.cut : times.heal).push(Number(seen.realNs / 1_000_000n) - linkSet);
          times.ip.push(linkSet - before);
          if (checkpoints.includes(i)) {
            const m0 = Date.now();
            at.set(i, await measure());
            waiting += Date.now() - m0;
            const c = at.get(i)!;
            ctx.log(
              `${i} changes in ${((Date.now() - t0) / 1000).toFixed(0)} s: RSS ${c.usage.map((u) => mib(u.rssKiB)).join('/')} MiB, heap after GC ${c.memory.map((m) => mibOfBytes(m.heapUsed)).join('/')} MiB, fds ${c.usage.map((u) => u.fds).join('/')}`,
            );
          } else if (i % 100 === 0) {
            ctx.log(`${i} changes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
          }
        }
        elapsed = (Date.now() - t0 - waiting) / 1000;
      } finally {
        await probe.stop();
      }
      const decisions = listeners.map((l) => l.logLines().filter((x) => x.event === 'decision' && x.trigger === 'quorum').length);
      const points = [0, ...checkpoints];
      const rows = listeners.map((l, k) => [
        l.node.name,
        ...points.map((n) => {
          const c = at.get(n)!;
          const m = c.memory[k]!;
          return `${mib(c.usage[k]!.rssKiB)} / ${mibOfBytes(dataOf(m))} + ${mibOfBytes(codeOf(m))} / ${c.usage[k]!.fds}`;
        }),
        String(decisions[k]),
      ]);
      const [first, final] = [at.get(checkpoints[0]!)!, at.get(last)!];
      const rssGrowth = listeners.map((_, k) => final.usage[k]!.rssKiB / first.usage[k]!.rssKiB - 1);
      const dataGrowth = listeners.map((_, k) => dataOf(final.memory[k]!) / dataOf(first.memory[k]!) - 1);
      const dataPerChange = listeners.map((_, k) => (dataOf(final.memory[k]!) - dataOf(first.memory[k]!)) / (last - checkpoints[0]!));
      const codeGrowth = listeners.map((_, k) => codeOf(final.memory[k]!) - codeOf(first.memory[k]!));
      const withoutIpc = (c: Checkpoint, k: number): number => c.usage[k]!.rssKiB - c.rss[k]!.ipcKiB;
      const rssGrowthWithoutIpc = listeners.map((_, k) => withoutIpc(final, k) / withoutIpc(first, k) - 1);
      const byKind = listeners.map((l, k) => {
        const [a, b] = [first.rss[k]!, final.rss[k]!];
        const young = (m: MemoryLine): string => (m.spaces?.new_space ? mibOfBytes(m.spaces.new_space.size) : '?');
        return [
          l.node.name,
          `${mib(a.ipcKiB)} → ${mib(b.ipcKiB)} (of ${mib(b.ipcMappedKiB)} mapped)`,
          `${mib(a.anonKiB)} → ${mib(b.anonKiB)}`,
          `${young(first.memory[k]!)} → ${young(final.memory[k]!)}`,
          `${mib(a.fileKiB)} → ${mib(b.fileKiB)}`,
        ];
      });
      const fdsSame = listeners.every((_, k) => final.usage[k]!.fds === first.usage[k]!.fds);
      return [
        `Workload: a 3-node sandbox cluster (token ${tokenMs} ms, token_coefficient 0, knet ping timeout ${KNET_PING.timeoutMs / 1000} s, static ARP entries between the nodes: tuned so that each change is only corosync's token loss or merge, see bench/cost/soak.ts) with \`corolistener run\` (started with the \`Environment=\` of systemd/corolistener.service: ${unitEnv}) and the fake VMmanager on every node; n3's link was cut and healed ${last / 2} times, ${last} membership changes (each waited for on n1 with a C libquorum client), in ${elapsed.toFixed(0)} s (${((elapsed / last) * 1000).toFixed(0)} ms per change, checkpoints not counted; medians: link down → n1's new membership ${median(times.cut).toFixed(0)} ms, link up → membership ${median(times.heal).toFixed(0)} ms, the \`ip link set\` command itself ${median(times.ip).toFixed(0)} ms). At each checkpoint (after a heal) the listeners are left to settle (one master, two slaves) plus 2 s, and until the commands they started for the last change have ended; then RSS and open fds from /proc, then the V8 heap in use right after a full GC: the listeners preload \`bench/cost/listener-instrument.ts\`, which on SIGUSR2 runs \`gc()\` and prints \`process.memoryUsage()\` (it adds nothing else to the daemon; measuring forces a GC, so RSS is read before). n1 is the master (it reports n3 failed on every cut); n3 suspends and comes back as slave each time.`,
        '',
        ...table(['listener', ...points.map((n) => `after ${n} changes: RSS MiB / heap after GC: data + code MiB / fds`), 'quorum decisions logged'], rows, ['l']),
        '',
        "Heap after GC: V8's heap in use right after a full collection (`heapUsed`), split into code (compiled code, bytecode and their metadata: `v8.getHeapCodeStatistics()`) and data (the rest: the program's objects, and V8's feedback vectors and code-dependency lists, which grow with the compiled code). Quorum decisions logged: every quorum event the listener decided on; more than the flaps when corosync formed memberships in between. RSS is the whole process: heap not yet collected or not yet returned to the system, code, malloc arenas.",
        '',
        `Target: no growth beyond noise between ${checkpoints[0]} and ${last} changes (open fds equal, RSS within +${NOISE * 100}%): ${verdict(fdsSame && rssGrowth.every((g) => g < NOISE))} (fds ${fdsSame ? 'equal' : 'changed'}; RSS ${rssGrowth.map(pct).join(', ')}).`,
        '',
        `Where the resident memory is, from /proc/PID/smaps, after ${checkpoints[0]} → after ${last} changes (MiB):`,
        '',
        ...table(
          [
            'listener',
            "corosync IPC rings (libqb's shared-memory ring buffers, one set per connection)",
            'anonymous (V8 heap, malloc arenas, stacks)',
            "of which V8's young generation (committed, after the GC)",
            'files (node, libraries, the addon)',
          ],
          byKind,
          ['l'],
        ),
        '',
        `The IPC rings are shared memory that libqb maps for each connection to corosync (quorum, votequorum, cmap, cfg, CPG: a request, a response and an event ring of 1 MiB each, each mapped twice in a row so a message can wrap around the end). corosync's own mapping of every ring is resident from the moment a client connects, so these pages cost no memory twice; on the listener's side a page used to be counted only once a message first passed through it, so RSS crept up until every ring had wrapped once (n1: 1.1 → 4.5 MiB between 100 and 1000 changes in the last run before the change, 2026-12-05 15:54 UTC, which put whole RSS at +12.2%). The listener now maps the first mapping of every ring at connect (native/ipc_rings.h, MADV_POPULATE_READ): its RSS is at that steady state from the start. Growth in MiB, same interval: ${listeners.map((_, k) => `${((final.usage[k]!.rssKiB - first.usage[k]!.rssKiB) / 1024).toFixed(1)}`).join(', ')} MiB; RSS without the rings: ${rssGrowthWithoutIpc.map(pct).join(', ')}; within +${NOISE * 100}%: ${verdict(rssGrowthWithoutIpc.every((g) => g < NOISE))}.`,
        '',
        `Leak check: the program's data on the V8 heap after a full GC, same interval: ${dataGrowth.map(pct).join(', ')} (${dataPerChange.map((b) => `${b.toFixed(0)} B`).join(', ')} per change); within +${NOISE * 100}%: ${verdict(dataGrowth.every((g) => g < NOISE))}. Compiled code and bytecode: ${codeGrowth.map((b) => `${b >= 0 ? '+' : ''}${mibOfBytes(b)} MiB`).join(', ')} (V8 optimizes more functions as they get hot; heap snapshots taken at 100 and 1000 changes while this benchmark was written showed the growth in code objects, feedback vectors and deoptimization data, not in the program's objects).`,
        '',
        'Engine throughput under churn: see the Decision engine section (same benchmark run when run with `npm run bench`).',
      ];
    });
  },
};
