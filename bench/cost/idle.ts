// Part 4: what a settled listener costs while nothing happens: CPU time, wake-ups (voluntary
// context switches of every thread, from /proc), RSS, then strace -c -f.
//
// The event loop (the main thread) also runs V8's own delayed tasks: after the heap has grown
// (start-up, a takeover), V8's memory reducer checks every 8 s (--gc-memory-reducer-start-delay-ms)
// from a task posted to the main thread until allocation has slowed down, then runs up to three
// memory-reducing mark-compacts the same way; it is not re-armed until the heap grows again.
// (Seen with --trace-gc and strace -tt of the main thread: epoll_pwait timeouts of ~8 s, then
// "Mark-Compact (reduce)" lines, then silence; these were the 8 wake-ups the first version of
// this benchmark saw in the first half of a window that started 10 s after settling.) Those
// wake-ups are V8's, not a timer of ours, and they end. So the idle window starts once the
// watched event loops have had no wake-up for QUIET_MS (longer than that delay: a pending step
// of the reducer would have shown), and what happened between settling and the window is
// reported next to V8's GC trace of the same time (--trace-gc through the bench instrument),
// not hidden.
import { table, verdict } from '../lib/benchmarks-md';
import { envInt, type BenchPart } from '../lib/part';
import { procUsage } from '../lib/proc-usage';
import { instrumentedListenerEnv, readInstrumentOutput, type GcEvent } from './instrument';
import { delay, mib, pidOf, settle, withListeners } from './listeners';
import { straceCount } from './strace-count';
import type { SandboxListener } from '../../dist/sandbox';

/** No event-loop wake-up for this long before the window starts (> V8's 8 s memory-reducer delay). */
const QUIET_MS = 10_000;
/** The window starts at the latest this long after settling, quiet or not (the table then shows it). */
const MAX_QUIET_WAIT_MS = 90_000;

interface LoopSample {
  atMs: number;
  /** Main-thread voluntary switches of each watched listener (cumulative). */
  main: number[];
}

/** Samples the watched event loops every second until none woke for `quietMs` (or `maxMs` passed). */
async function waitQuiet(pids: readonly number[], quietMs: number, maxMs: number): Promise<{ samples: LoopSample[]; quiet: boolean }> {
  const sample = (): LoopSample => ({ atMs: Date.now(), main: pids.map((p) => procUsage(p).mainVoluntarySwitches) });
  const samples = [sample()];
  const start = samples[0]!.atMs;
  let quietSince = start;
  for (;;) {
    await delay(1000);
    const s = sample();
    if (s.main.some((v, k) => v !== samples.at(-1)!.main[k])) quietSince = s.atMs;
    samples.push(s);
    if (s.atMs - quietSince >= quietMs) return { samples, quiet: true };
    if (s.atMs - start >= maxMs) return { samples, quiet: false };
  }
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/** "8 s: 6, 9 s: 3": wake-ups per second after settling, seconds without any left out. */
function wakeupTimeline(samples: readonly LoopSample[], k: number, settledAt: number): string {
  const parts = samples.slice(1).flatMap((s, i) => {
    const n = s.main[k]! - samples[i]!.main[k]!;
    return n > 0 ? [`${Math.round((s.atMs - settledAt) / 1000)} s: ${n}`] : [];
  });
  return parts.length === 0 ? 'none' : parts.join(', ');
}

function gcList(gcs: readonly GcEvent[], settledAt: number): string {
  return gcs.length === 0 ? 'none' : gcs.map((g) => `${g.kind} at ${seconds(g.atMs - settledAt)}`).join(', ');
}

export const idlePart: BenchPart = {
  id: 'idle',
  title: 'Idle cost of a listener',
  source: 'bench/cost/idle.ts',
  env: ['BENCH_IDLE_SECONDS', 'BENCH_IDLE_STRACE_SECONDS'],
  async run(ctx) {
    const windowSeconds = envInt('BENCH_IDLE_SECONDS', 60);
    const straceSeconds = envInt('BENCH_IDLE_STRACE_SECONDS', 20);
    return withListeners(ctx, { listener: { env: instrumentedListenerEnv({ traceGc: true }) } }, async (_cluster, listeners) => {
      const master = await settle(listeners, 0);
      const settledAt = Date.now();
      const watched: SandboxListener[] = [master, listeners.find((l) => l !== master)!];
      const pids = watched.map(pidOf);
      ctx.log(`settled; waiting until the event loops were quiet for ${QUIET_MS / 1000} s`);
      const { samples, quiet } = await waitQuiet(pids, QUIET_MS, MAX_QUIET_WAIT_MS);
      const windowStart = Date.now();
      const before = pids.map(procUsage);
      ctx.log(`idle window of ${windowSeconds} s from ${seconds(windowStart - settledAt)} after settling`);
      await delay((windowSeconds * 1000) / 2);
      const middle = pids.map(procUsage);
      await delay((windowSeconds * 1000) / 2);
      const after = pids.map(procUsage);
      const windowEnd = Date.now();
      ctx.log(`strace -c -f for ${straceSeconds} s`);
      const counts = await Promise.all(pids.map((p) => straceCount(p, straceSeconds)));
      const gcs = watched.map((l) => readInstrumentOutput(l).gcs);
      const gcsBefore = gcs.map((g) => g.filter((x) => x.atMs >= settledAt && x.atMs < windowStart));
      const gcsIn = gcs.map((g) => g.filter((x) => x.atMs >= windowStart && x.atMs < windowEnd));

      const loopWakeups = watched.map((_, i) => after[i]!.mainVoluntarySwitches - before[i]!.mainVoluntarySwitches);
      const secondHalf = watched.map((_, i) => after[i]!.mainVoluntarySwitches - middle[i]!.mainVoluntarySwitches);
      const preWakeups = watched.map((_, k) => samples.at(-1)!.main[k]! - samples[0]!.main[k]!);
      const name = (l: SandboxListener): string => `${l.node.name} (${l === master ? 'master' : 'slave'})`;
      const rows = watched.map((l, i) => {
        const b = before[i]!;
        const a = after[i]!;
        const c = counts[i]!;
        const top = [...c.bySyscall]
          .sort((x, y) => y[1] - x[1])
          .slice(0, 4)
          .map(([n, k]) => `${n} ${k}`)
          .join(', ');
        return [
          name(l),
          (a.cpuMs - b.cpuMs).toFixed(0),
          `${loopWakeups[i]} (${secondHalf[i]} in the 2nd half)`,
          String(gcsIn[i]!.length),
          String(a.voluntarySwitches - a.mainVoluntarySwitches - (b.voluntarySwitches - b.mainVoluntarySwitches)),
          String(a.nonvoluntarySwitches - b.nonvoluntarySwitches),
          String(a.threads),
          mib(a.rssKiB),
          String(a.fds),
          `${c.total}${top ? ` (${top})` : ''}`,
        ];
      });
      const preRows = watched.map((l, k) => [name(l), String(preWakeups[k]), wakeupTimeline(samples, k, settledAt), gcList(gcsBefore[k]!, settledAt)]);
      const wakeups = watched.map((_, i) => after[i]!.voluntarySwitches - before[i]!.voluntarySwitches);
      return [
        `Workload: a settled 3-node sandbox cluster with \`corolistener run\` on every node (token 1000 ms); the master's and a slave's listener are watched through /proc (CPU time = utime + stime, 10 ms ticks; wake-ups = voluntary context switches from /proc/PID/task/*/status: a thread blocked the whole time has none; the main thread runs the event loop, where every timer and I/O callback of corolistener runs, and V8's own tasks). The ${windowSeconds} s idle window starts once both event loops have had no wake-up for ${QUIET_MS / 1000} s (${quiet ? `here ${seconds(windowStart - settledAt)} after the roles settled` : `**not reached** within ${MAX_QUIET_WAIT_MS / 1000} s: the window started anyway, ${seconds(windowStart - settledAt)} after the roles settled`}). Then \`strace -c -f -p PID\` on both for ${straceSeconds} s counts every system call of every thread (attaching interrupts the blocked calls once, which can show up as a few calls). The listeners preload \`bench/cost/listener-instrument.ts\`, which turns on V8's \`--trace-gc\` (a line per garbage collection in the daemon's output; no timer, no extra wake-up).`,
        '',
        ...table(
          [
            'listener',
            `CPU ms in ${windowSeconds} s`,
            'event-loop thread wake-ups',
            'V8 GCs',
            "other threads' wake-ups",
            'involuntary switches (all)',
            'threads',
            'RSS MiB',
            'open fds',
            `syscalls in ${straceSeconds} s under strace`,
          ],
          rows,
          ['l'],
        ),
        '',
        `Target: zero timers firing while idle, i.e. no wake-up of the event loop in the window: ${verdict(loopWakeups.every((w) => w === 0))} (${loopWakeups.join(' and ')} in ${windowSeconds} s, ${secondHalf.join(' and ')} in its second half; system calls in the ${straceSeconds} s after it: ${counts.map((c) => c.total).join(' and ')}); all threads together: ${wakeups.every((w) => w === 0) ? 'no wake-ups either' : `${wakeups.join(' and ')} wake-ups (the other threads are Node's and V8's own: libuv's pool, V8's platform workers; corolistener starts no threads)`}.`,
        '',
        `Between settling and the window, for comparison with V8's garbage collections of the same time: the first seconds are the end of the roles' own work (the new master's background gratuitous ARPs, 200 ms apart, and its commands; the slaves' answers to its broadcasts); later wake-ups come from V8's memory reducer, which after the heap grew (start-up, takeover) checks every 8 s from a task on the main thread (a single wake-up each time) until the program allocates slowly enough, then runs up to three memory-reducing collections ("Mark-Compact (reduce)", a few wake-ups each), and is not re-armed until the heap grows again. ${QUIET_MS / 1000} s of quiet is longer than its delay: a pending step would have shown before the window.`,
        '',
        ...table(['listener', 'event-loop wake-ups', 'wake-ups by second after settling', 'V8 GCs then (--trace-gc), time after settling'], preRows, ['l', 'r', 'l', 'l']),
      ];
    });
  },
};
