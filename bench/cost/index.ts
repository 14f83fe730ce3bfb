// Parts 4 and 5: what a running listener costs.
//   idle  listeners in a settled 3-node cluster, nothing happening: CPU time, wake-ups
//         (voluntary context switches of all threads, from /proc), RSS; then strace -c -f
//   soak  membership changes (n3's link flapped) in a 3-node cluster: RSS and open fds of
//         every listener after 100 and after all changes
import { createCluster, startListeners, type SandboxCluster, type SandboxListener } from '../../dist/sandbox';
import { table, verdict } from '../lib/benchmarks-md';
import { buildC, cSource } from '../lib/build-c';
import { envInt, type BenchPart, type PartContext } from '../lib/part';
import { procUsage, type ProcUsage } from '../lib/proc-usage';
import { nodeProbe } from '../lib/probe';
import { parseQuorumLine } from '../lib/quorum-line';
import { straceCount } from './strace-count';

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** How long the idle window starts after the roles settled (the takeover's commands are done by then). */
const SETTLE_MS = 10_000;

/** Waits until exactly one listener says master and the others slave, then `quietMs` more. */
async function settle(listeners: readonly SandboxListener[], quietMs: number, timeoutMs = 60_000): Promise<SandboxListener> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const roles = await Promise.all(listeners.map(async (l) => (await l.status())?.daemon.role));
    const masters = listeners.filter((_, i) => roles[i] === 'master');
    if (masters.length === 1 && roles.filter((r) => r === 'slave').length === listeners.length - 1) {
      await delay(quietMs);
      return masters[0]!;
    }
    if (Date.now() > deadline) throw new Error(`listeners did not settle within ${timeoutMs} ms (roles: ${roles.join(', ')})`);
    await delay(200);
  }
}

async function withListeners<T>(ctx: PartContext, options: { tokenMs?: number }, use: (c: SandboxCluster, l: SandboxListener[]) => Promise<T>): Promise<T> {
  const cluster = await createCluster({ nodes: 3, tokenMs: options.tokenMs });
  try {
    const listeners = await startListeners(cluster);
    ctx.log('listeners started');
    return await use(cluster, listeners);
  } finally {
    await cluster.destroy();
  }
}

const pidOf = (l: SandboxListener): number => {
  if (l.pid === null) throw new Error(`the listener on ${l.node.name} is not running:\n${l.diagnostics()}`);
  return l.pid;
};
const mib = (kib: number): string => (kib / 1024).toFixed(1);

export const idlePart: BenchPart = {
  id: 'idle',
  title: 'Idle cost of a listener',
  source: 'bench/cost/index.ts',
  env: ['BENCH_IDLE_SECONDS', 'BENCH_IDLE_STRACE_SECONDS'],
  async run(ctx) {
    const seconds = envInt('BENCH_IDLE_SECONDS', 60);
    const straceSeconds = envInt('BENCH_IDLE_STRACE_SECONDS', 20);
    return withListeners(ctx, {}, async (_cluster, listeners) => {
      const master = await settle(listeners, SETTLE_MS);
      const watched = [master, listeners.find((l) => l !== master)!];
      const before = watched.map((l) => procUsage(pidOf(l)));
      ctx.log(`idle for ${seconds} s`);
      await delay((seconds * 1000) / 2);
      const middle = watched.map((l) => procUsage(pidOf(l)));
      await delay((seconds * 1000) / 2);
      const after = watched.map((l) => procUsage(pidOf(l)));
      const secondHalf = watched.map((_, i) => after[i]!.mainVoluntarySwitches - middle[i]!.mainVoluntarySwitches);
      ctx.log(`strace -c -f for ${straceSeconds} s`);
      const counts = await Promise.all(watched.map((l) => straceCount(pidOf(l), straceSeconds)));
      const rows = watched.map((l, i) => {
        const b = before[i]!;
        const a = after[i]!;
        const c = counts[i]!;
        const top = [...c.bySyscall].sort((x, y) => y[1] - x[1]).slice(0, 4).map(([name, n]) => `${name} ${n}`).join(', ');
        return [
          `${l.node.name} (${l === master ? 'master' : 'slave'})`,
          (a.cpuMs - b.cpuMs).toFixed(0),
          `${a.mainVoluntarySwitches - b.mainVoluntarySwitches} (${secondHalf[i]} in the 2nd half)`,
          String(a.voluntarySwitches - a.mainVoluntarySwitches - (b.voluntarySwitches - b.mainVoluntarySwitches)),
          String(a.nonvoluntarySwitches - b.nonvoluntarySwitches),
          String(a.threads),
          mib(a.rssKiB),
          String(a.fds),
          `${c.total}${top ? ` (${top})` : ''}`,
        ];
      });
      const loopWakeups = watched.map((_, i) => after[i]!.mainVoluntarySwitches - before[i]!.mainVoluntarySwitches);
      const wakeups = watched.map((_, i) => after[i]!.voluntarySwitches - before[i]!.voluntarySwitches);
      return [
        `Workload: a settled 3-node sandbox cluster with \`corolistener run\` on every node; starting ${SETTLE_MS / 1000} s after the roles settled, nothing happens for ${seconds} s while the master's and a slave's listener are watched through /proc (CPU time = utime + stime, 10 ms ticks; wake-ups = voluntary context switches from /proc/PID/task/*/status: a thread blocked the whole time has none; the main thread runs the event loop, where every timer and I/O callback of corolistener runs). Then \`strace -c -f -p PID\` on both for ${straceSeconds} s counts every system call of every thread (attaching interrupts the blocked calls once, which can show up as a few calls).`,
        '',
        ...table(['listener', `CPU ms in ${seconds} s`, 'event-loop thread wake-ups', 'other threads\' wake-ups', 'involuntary switches (all)', 'threads', 'RSS MiB', 'open fds', `syscalls in ${straceSeconds} s under strace`], rows, ['l']),
        '',
        `Target: zero timers firing while idle, i.e. no wake-up of the event loop: ${verdict(loopWakeups.every((w) => w === 0))} (${loopWakeups.join(' and ')} in ${seconds} s, ${secondHalf.join(' and ')} in its second half; system calls in the ${straceSeconds} s after it: ${counts.map((c) => c.total).join(' and ')}); all threads together: ${wakeups.every((w) => w === 0) ? 'no wake-ups either' : `${wakeups.join(' and ')} wake-ups (the other threads are Node's and V8's own: libuv's pool, V8's platform workers and GC; corolistener starts no threads, and when the event-loop thread wakes alongside them, right after a takeover's allocations, the likeliest cause is V8's own GC tasks posted to it, not a timer of ours: none of ours repeats, as the second half shows)`}.`,
      ];
    });
  },
};

/**
 * A membership change takes corosync about 1.4 s here (cut: token + consensus; heal: rejoin),
 * so the 1000 changes the soak is meant for take ~25 min: more than all of `npm run bench` may.
 * The default fits the budget; `BENCH_SOAK_CHANGES=1000 npm run bench -- soak` does the full
 * soak and writes its own section (soak-1000).
 */
const DEFAULT_SOAK_CHANGES = 200;
const soakChanges = (): number => envInt('BENCH_SOAK_CHANGES', DEFAULT_SOAK_CHANGES, 2);

export const soakPart: BenchPart = {
  id: 'soak',
  title: 'Soak: listeners through many membership changes',
  source: 'bench/cost/index.ts',
  env: ['BENCH_SOAK_CHANGES', 'BENCH_SOAK_TOKEN_MS'],
  sectionId: () => (soakChanges() === DEFAULT_SOAK_CHANGES ? 'soak' : `soak-${soakChanges()}`),
  async run(ctx) {
    const changes = soakChanges();
    const tokenMs = envInt('BENCH_SOAK_TOKEN_MS', 200, 100);
    const checkpoints = [...new Set([Math.min(100, changes), changes])].map((n) => n + (n % 2)); // after a heal
    const probeBin = await buildC(cSource('quorum-probe'), ['libquorum']);
    return withListeners(ctx, { tokenMs }, async (cluster, listeners) => {
      await settle(listeners, 2_000);
      const probe = nodeProbe(cluster, 1, [probeBin], parseQuorumLine);
      try {
        await probe.ready();
        const usage = new Map<number, ProcUsage[]>();
        usage.set(0, listeners.map((l) => procUsage(pidOf(l))));
        const t0 = Date.now();
        const last = checkpoints.at(-1)!;
        for (let i = 1; i <= last; i++) {
          const cut = i % 2 === 1;
          const from = probe.samples.length;
          await (cut ? cluster.cut(3) : cluster.heal(3));
          await probe.waitFor((s) => s.members.includes(3) !== cut, `membership change ${i} (${cut ? 'cut' : 'heal'} n3)`, 60_000, from);
          if (checkpoints.includes(i)) {
            await settle(listeners, 2_000);
            usage.set(i, listeners.map((l) => procUsage(pidOf(l))));
            ctx.log(`${i} changes in ${((Date.now() - t0) / 1000).toFixed(0)} s: RSS ${usage.get(i)!.map((u) => mib(u.rssKiB)).join('/')} MiB, fds ${usage.get(i)!.map((u) => u.fds).join('/')}`);
          } else if (i % 100 === 0) {
            ctx.log(`${i} changes in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
          }
        }
        const elapsed = (Date.now() - t0) / 1000;
        const decisions = listeners.map((l) => l.logLines().filter((x) => x.event === 'decision' && x.trigger === 'quorum').length);
        const at = [0, ...checkpoints];
        const rows = listeners.map((l, k) => [
          l.node.name,
          ...at.map((n) => `${mib(usage.get(n)![k]!.rssKiB)} / ${usage.get(n)![k]!.fds}`),
          String(decisions[k]),
        ]);
        const [first, final] = [checkpoints[0]!, last];
        const growth = listeners.map((_, k) => usage.get(final)![k]!.rssKiB / usage.get(first)![k]!.rssKiB - 1);
        const fdsSame = listeners.every((_, k) => usage.get(final)![k]!.fds === usage.get(first)![k]!.fds);
        return [
          `Workload: a 3-node sandbox cluster (token ${tokenMs} ms, to flap faster) with \`corolistener run\` and the fake VMmanager on every node; n3's link was cut and healed ${last / 2} times, ${last} membership changes (each waited for on n1 with a C libquorum client), in ${elapsed.toFixed(0)} s. At each checkpoint (after a heal) the listeners are left to settle (one master, two slaves) plus 2 s before reading /proc. n1 is the master (it reports n3 failed on every cut); n3 suspends and comes back as slave each time.`,
          '',
          ...table(['listener', ...at.map((n) => `after ${n} changes: RSS MiB / fds`), 'quorum decisions logged'], rows, ['l']),
          '',
          'Quorum decisions logged: every quorum event the listener decided on; more than the flaps when corosync formed memberships in between. RSS is the whole process, so V8 heap not yet collected counts too: this table alone cannot tell a leak from lazy garbage collection.',
          '',
          `Target: no growth beyond noise between ${first} and ${final} changes (open fds equal, RSS within +10%): ${verdict(fdsSame && growth.every((g) => g < 0.1))} (fds ${fdsSame ? 'equal' : 'changed'}; RSS ${growth.map((g) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`).join(', ')}).`,
          '',
          `At this pace ${last} changes took ${elapsed.toFixed(0)} s (${(elapsed / last).toFixed(2)} s each: every change waits until corosync has detected the cut or completed the rejoin), so the 1000 changes of a full soak do not fit in \`npm run bench\`'s 20 minutes: \`BENCH_SOAK_CHANGES=1000 npm run bench -- soak\` writes its own section (soak-1000).`,
          '',
          'Engine throughput under churn: see the Decision engine section (same benchmark run when run with `npm run bench`).',
        ];
      } finally {
        await probe.stop();
      }
    });
  },
};
