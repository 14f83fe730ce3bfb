// ARP through Debian's iputils-arping (20221126): duplicate address detection before taking
// an address, and gratuitous ARP after, repeated and spaced as IPaddr2 does (5 x 200 ms).
// iputils' `-i` takes whole seconds only and each `arping -c 1` lingers one interval (~1 s)
// after sending, so we start one process per announcement ourselves, `intervalMs` apart,
// without waiting for the previous one to exit: the packet leaves when the process starts.
// Only the first one is on the takeover's critical path; the rest go on in the background.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailedError, type CommandResult, type CommandRunner, formatArgv, succeeded } from './command-runner';

export interface DuplicateCheckOptions {
  /**
   * How long we listen for an answer after the probe has left (default DEFAULT_DAD_WINDOW_MS,
   * 5 ms, through the addon; ARPING_DAD_WINDOW_MS with `arping`). Measured, not guessed (`npm run bench -- arp`, BENCHMARKS.md "ARP"): a live holder's
   * answer reaches our socket 0.02 ms median, 0.06 ms at most after the probe leaves, quiet or
   * with a busy loop per core (the holder's kernel answers in softirq context, ahead of any
   * process); 5 ms is ~80x that, room for a switch or a holder busier than the sandbox's. A
   * late wake-up of ours does not shrink it: when the window ends, every answer already queued
   * is read first (the addon; arping counts queued replies on SIGTERM too). Listening longer
   * would not catch a stalled old master either: the engine's quorum rule is what prevents two
   * masters; this check guards against a live foreign holder of the address (for comparison:
   * keepalived does no check at all, IPaddr2 only with run_arping=true). Networks with slower
   * ARP (stretched L2 over a WAN) raise it. Through the addon, silence counts only from a link
   * that carries frames before and after the window (NativeNetwork.linkCarries); `arping -D`
   * checks only that the device is up.
   */
  readonly windowMs?: number;
}

export interface AnnounceOptions {
  /** Gratuitous ARPs sent (default 5, as IPaddr2's ARP_REPEAT). */
  readonly count?: number;
  /** Gap between them (default 200 ms, as IPaddr2's ARP_INTERVAL_MS). */
  readonly intervalMs?: number;
  /** 'request' = `arping -U` (default), 'reply' = `arping -A`. */
  readonly mode?: 'request' | 'reply';
}

export interface ArpSent {
  readonly index: number;
  readonly count: number;
  /** performance.now() when the arping process started (the packet leaves right then). */
  readonly at: number;
}

interface CommonOptions {
  readonly runner: CommandRunner;
  readonly dev: string;
  readonly ip: string;
  readonly timeoutMs?: number;
  readonly env?: Readonly<Record<string, string>>;
  readonly signal?: AbortSignal;
}

/** Another host answered for an address we were about to take: two holders means trouble. */
export class DuplicateAddressError extends Error {
  // Retryable: during a failover the old holder may be dropping the address right now.
  readonly retryable = true;
  constructor(
    readonly ip: string,
    readonly dev: string,
    readonly holders: readonly string[],
  ) {
    super(`${ip} is already in use on the network of ${dev} (answered by ${holders.join(', ')}); not taking it`);
    this.name = 'DuplicateAddressError';
  }
}

const REPLY_RE = /reply from \S+ \[([0-9A-Fa-f:]{11,17})\]/g;

/** MAC addresses (lowercase, unique) that answered, from arping's output. */
export function parseArpingReplies(stdout: string): string[] {
  const macs = new Set<string>();
  for (const m of stdout.matchAll(REPLY_RE)) macs.add(m[1].toLowerCase());
  return [...macs];
}

export const DEFAULT_DAD_WINDOW_MS = 5;

/**
 * The window when the check runs as `arping -D` (injected runners): 10 ms, counted from arping's
 * banner, which it prints just before the probe leaves; a process can lose the CPU in between.
 */
export const ARPING_DAD_WINDOW_MS = 10;

/**
 * `arping -D -c 1 -w 1`, line-buffered by stdbuf: arping prints its banner right before the
 * probe leaves, and only with line buffering does the banner reach us then (on a pipe stdout
 * is otherwise flushed at exit). `-w 1` bounds the run if the banner never streams.
 */
export function duplicateCheckArgv(dev: string, ip: string): string[] {
  return ['stdbuf', '-oL', 'arping', '-D', '-c', '1', '-w', '1', '-I', dev, ip];
}

export function announceArgv(dev: string, ip: string, mode: AnnounceOptions['mode'] = 'request'): string[] {
  return ['arping', mode === 'reply' ? '-A' : '-U', '-c', '1', '-I', dev, '-s', ip, ip];
}

/** Probes arping reports having sent ("Sent N probes"), or undefined when it printed no summary. */
export function parseProbesSent(stdout: string): number | undefined {
  const m = /^Sent (\d+) probes/m.exec(stdout);
  return m ? Number(m[1]) : undefined;
}

/** arping's last line (its summary), printed once its event loop is over: the verdict is final then. */
const SUMMARY_END_RE = /^Received (\d+) response\(s\)[^\n]*\n/m;

/**
 * Resolves when nobody else answers for `ip`; DuplicateAddressError when someone does.
 *
 * arping is stopped `windowMs` after its banner arrives (the probe leaves right after it).
 * It handles SIGTERM through a signalfd: it counts any reply already queued, prints its
 * summary and exits 1 if a reply came, else 0 (a reply also makes it exit 1 at once, `-D`
 * quits on the first one). Only "at least one probe sent, no response" means free: killed
 * before its handler was set up, any other outcome or no probe sent is a failed check.
 *
 * The summary is the last thing arping does before exiting, so "free" is decided as soon as
 * it arrives: the exit itself comes up to ~15 ms later (closing its packet socket waits for
 * an RCU grace period in the kernel), and nothing in it can change the verdict. Every other
 * outcome waits for the exit and is judged on the whole result.
 */
export async function checkAddressFree(o: CommonOptions & DuplicateCheckOptions): Promise<void> {
  const windowMs = o.windowMs ?? ARPING_DAD_WINDOW_MS;
  const stop = new AbortController();
  const forward = () => stop.abort();
  if (o.signal?.aborted) stop.abort();
  else o.signal?.addEventListener('abort', forward, { once: true });
  let window: NodeJS.Timeout | undefined;
  let stdout = '';
  let summaryArrived!: () => void;
  const summary = new Promise<'summary'>((resolve) => (summaryArrived = () => resolve('summary')));
  let result: CommandResult;
  try {
    const run = o.runner.run(duplicateCheckArgv(o.dev, o.ip), {
      timeoutMs: o.timeoutMs,
      env: o.env,
      signal: stop.signal,
      onStdout: (chunk) => {
        window ??= setTimeout(() => stop.abort(), windowMs);
        stdout += chunk.toString('utf8');
        if (SUMMARY_END_RE.test(stdout)) summaryArrived();
      },
    });
    if ((await Promise.race([run, summary])) === 'summary' && o.signal?.aborted !== true && saysFree(stdout)) return;
    result = await run;
  } finally {
    clearTimeout(window);
    o.signal?.removeEventListener('abort', forward);
  }
  const holders = parseArpingReplies(result.stdout);
  if (holders.length > 0) throw new DuplicateAddressError(o.ip, o.dev, holders);
  const callerAborted = o.signal?.aborted === true;
  if (result.exitCode !== 0 || result.timedOut || callerAborted || result.spawnError !== undefined) {
    throw new CommandFailedError(result);
  }
  if ((parseProbesSent(result.stdout) ?? 0) < 1) {
    const said = result.stdout.trim().split('\n')[0] ?? '';
    throw Object.assign(new Error(`${formatArgv(result.argv)}: sent no probe${said ? ` (${said})` : ''}; cannot tell whether ${o.ip} is free`), { retryable: true });
  }
}

/** A complete arping -D output that means "free": a probe went out and nothing answered. */
function saysFree(stdout: string): boolean {
  const received = SUMMARY_END_RE.exec(stdout);
  return received !== null && received[1] === '0' && (parseProbesSent(stdout) ?? 0) >= 1 && parseArpingReplies(stdout).length === 0;
}

/** How a background announcement ended. */
export interface AnnounceOutcome {
  /** ARPs whose process started. */
  readonly sent: number;
  /** Stopped by abort() before all were sent or done. */
  readonly aborted: boolean;
  /** The first arping that failed (not counting those we killed by aborting). */
  readonly error?: Error;
}

/** Gratuitous ARPs going out in the background; see startAnnouncement. */
export interface Announcement {
  /** Resolves once the first ARP has left (its arping started); rejects if it could not start. */
  readonly firstSent: Promise<void>;
  /** Settles when every ARP is done or aborted; never rejects. */
  readonly done: Promise<AnnounceOutcome>;
  /** Stops the announcements not sent yet and kills those still running. */
  abort(): void;
}

/**
 * Starts sending `count` gratuitous ARPs `intervalMs` apart and returns at once. It is not tied
 * to any caller's signal: the step that took the address is over long before the last ARP.
 */
export function startAnnouncement(o: Omit<CommonOptions, 'signal'> & AnnounceOptions & { readonly onArpSent?: (sent: ArpSent) => void }): Announcement {
  const count = Math.max(1, o.count ?? 5);
  const intervalMs = o.intervalMs ?? 200;
  const stop = new AbortController();
  let firstOk!: () => void;
  let firstFailed!: (e: Error) => void;
  const firstSent = new Promise<void>((resolve, reject) => {
    firstOk = resolve;
    firstFailed = reject;
  });
  firstSent.catch(() => undefined); // whoever awaits it sees the rejection; nobody else must
  let sent = 0;
  const runOne = (index: number): Promise<CommandResult> =>
    o.runner.run(announceArgv(o.dev, o.ip, o.mode), {
      timeoutMs: o.timeoutMs,
      env: o.env,
      signal: stop.signal,
      onSpawn: () => {
        sent++;
        if (index === 0) firstOk();
        o.onArpSent?.({ index, count, at: performance.now() });
      },
    });
  const done = (async (): Promise<AnnounceOutcome> => {
    const runs: Array<Promise<CommandResult>> = [];
    try {
      for (let index = 0; index < count && !stop.signal.aborted; index++) {
        if (index > 0) await sleep(intervalMs, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) break;
        const run = runOne(index);
        // A first arping that never started: the announcement did not happen at all.
        if (index === 0)
          run.then(
            (r) => firstFailed(new CommandFailedError(r)),
            () => undefined,
          );
        runs.push(run);
      }
      const failed = (await Promise.all(runs)).find((r) => !succeeded(r) && !r.aborted);
      return { sent, aborted: stop.signal.aborted, error: failed && new CommandFailedError(failed) };
    } catch (err) {
      return { sent, aborted: stop.signal.aborted, error: err instanceof Error ? err : new Error(String(err)) };
    } finally {
      firstFailed(new Error(`announcing ${o.ip} on ${o.dev}: aborted before the first ARP`));
    }
  })();
  return { firstSent, done, abort: () => stop.abort() };
}
