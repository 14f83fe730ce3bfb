// Retrying calls that corosync answers with CS_ERR_TRY_AGAIN (it is busy: syncing after a
// membership change, or flow control on CPG). The backoff is bounded so a stuck corosync turns
// into a CorosyncError('CS_ERR_TRY_AGAIN') instead of a hang.
import { isTryAgain } from './errors';

export interface RetryPolicy {
  /** Delay before the first retry, in ms; doubles on each further retry. */
  readonly firstDelayMs: number;
  /** Upper bound of a single delay, in ms. */
  readonly maxDelayMs: number;
  /** Give up (rethrow the TRY_AGAIN error) once this much time was spent waiting, in ms. */
  readonly budgetMs: number;
}

/**
 * Synchronous calls (quorate(), members(), get(), ...): delays 1, 2, 4 ... 64 ms, at most 250 ms
 * of waiting in total. The wait blocks the thread (the API is synchronous), hence the small bound.
 */
export const SYNC_RETRY: RetryPolicy = { firstDelayMs: 1, maxDelayMs: 64, budgetMs: 250 };

/** Cpg.send() under flow control: delays 1, 2, 4 ... 50 ms, up to 10 s per message; never blocks. */
export const SEND_RETRY: RetryPolicy = { firstDelayMs: 1, maxDelayMs: 50, budgetMs: 10_000 };

/** The delays a policy allows, in order; their sum never exceeds budgetMs. */
export function* backoffDelays(policy: RetryPolicy): Generator<number> {
  let spent = 0;
  let delay = policy.firstDelayMs;
  while (spent < policy.budgetMs) {
    const next = Math.min(delay, policy.maxDelayMs, policy.budgetMs - spent);
    spent += next;
    yield next;
    delay *= 2;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export function retrySync<T>(call: () => T, policy: RetryPolicy = SYNC_RETRY): T {
  const delays = backoffDelays(policy);
  for (;;) {
    try {
      return call();
    } catch (error) {
      const next = delays.next();
      if (!isTryAgain(error) || next.done) throw error;
      sleepSync(next.value);
    }
  }
}
