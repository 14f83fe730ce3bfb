// ARP through Debian's iputils-arping (20221126): duplicate address detection before taking
// an address, and gratuitous ARP after, repeated and spaced as IPaddr2 does (5 x 200 ms).
// iputils' `-i` takes whole seconds only and each `arping -c 1` lingers one interval (~1 s)
// after sending, so we start one process per announcement ourselves, `intervalMs` apart,
// without waiting for the previous one to exit: the packet leaves when the process starts.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandFailedError, type CommandResult, type CommandRunner, succeeded } from './command-runner';

export interface DuplicateCheckOptions {
  /** DAD probes (`-c`, default 2). */
  readonly count?: number;
  /** Deadline in whole seconds (`-w`, default 1): how long an absent holder costs a takeover. */
  readonly timeoutSeconds?: number;
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

export function duplicateCheckArgv(dev: string, ip: string, o: DuplicateCheckOptions = {}): string[] {
  return ['arping', '-D', '-c', String(o.count ?? 2), '-w', String(o.timeoutSeconds ?? 1), '-I', dev, ip];
}

export function announceArgv(dev: string, ip: string, mode: AnnounceOptions['mode'] = 'request'): string[] {
  return ['arping', mode === 'reply' ? '-A' : '-U', '-c', '1', '-I', dev, '-s', ip, ip];
}

/** Resolves when nobody else answers for `ip`; DuplicateAddressError when someone does. */
export async function checkAddressFree(o: CommonOptions & DuplicateCheckOptions): Promise<void> {
  const result = await o.runner.run(duplicateCheckArgv(o.dev, o.ip, o), { timeoutMs: o.timeoutMs, env: o.env, signal: o.signal });
  const holders = parseArpingReplies(result.stdout);
  if (holders.length > 0) throw new DuplicateAddressError(o.ip, o.dev, holders);
  // arping -D exits 0 when no reply came; anything else without a reply is a failed check.
  if (!succeeded(result)) throw new CommandFailedError(result);
}

/** Sends `count` gratuitous ARPs `intervalMs` apart; rejects if any arping failed. */
export async function announceAddress(
  o: CommonOptions & AnnounceOptions & { readonly onArpSent?: (sent: ArpSent) => void },
): Promise<void> {
  const count = Math.max(1, o.count ?? 5);
  const intervalMs = o.intervalMs ?? 200;
  const runs: Array<Promise<CommandResult>> = [];
  let aborted = false;
  for (let index = 0; index < count; index++) {
    if (index > 0) {
      try {
        await sleep(intervalMs, undefined, { signal: o.signal });
      } catch {
        aborted = true;
        break;
      }
    }
    runs.push(
      o.runner.run(announceArgv(o.dev, o.ip, o.mode), {
        timeoutMs: o.timeoutMs,
        env: o.env,
        signal: o.signal,
        onSpawn: () => o.onArpSent?.({ index, count, at: performance.now() }),
      }),
    );
  }
  const results = await Promise.all(runs);
  const failed = results.find((r) => !succeeded(r));
  if (failed) throw new CommandFailedError(failed);
  if (aborted) throw new Error(`announcing ${o.ip} on ${o.dev}: aborted after ${runs.length} of ${count} ARPs`);
}
