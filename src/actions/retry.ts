// Bounded retry with exponential backoff. The wait between attempts is abortable, so a newer
// decision never waits behind the backoff of an older one, and no timer outlives an abort.

import { setTimeout as sleep } from 'node:timers/promises';

export interface RetryOptions {
  /** Total attempts including the first (default 4). */
  readonly attempts?: number;
  /** Delay before the second attempt (default 250 ms); multiplied by `factor` each time. */
  readonly initialDelayMs?: number;
  readonly factor?: number;
  readonly maxDelayMs?: number;
  /** Default: everything except errors carrying `retryable: false`. */
  readonly isRetryable?: (error: unknown) => boolean;
}

export interface RetryHooks {
  /** Aborting stops further attempts (the running one is the caller's business). */
  readonly signal?: AbortSignal;
  /** Called after a failed attempt that will be retried, before the wait. */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Waits between attempts (default: a timer); rejects when `signal` aborts. The simulator passes its clock's. */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export const DEFAULT_RETRY: Required<Omit<RetryOptions, 'isRetryable'>> = {
  attempts: 4,
  initialDelayMs: 250,
  factor: 2,
  maxDelayMs: 5_000,
};

export function isRetryableError(error: unknown): boolean {
  return !(typeof error === 'object' && error !== null && (error as { retryable?: unknown }).retryable === false);
}

/** The delay after failed attempt `attempt` (1-based). */
export function backoffDelay(attempt: number, options: RetryOptions = {}): number {
  const o = { ...DEFAULT_RETRY, ...options };
  return Math.min(o.maxDelayMs, o.initialDelayMs * o.factor ** (attempt - 1));
}

/** Thrown when the signal aborted the retries; `cause` is the last attempt's error. */
export class RetryAbortedError extends Error {
  constructor(
    readonly attempts: number,
    cause: unknown,
  ) {
    super(`gave up after ${attempts} attempt(s): aborted`, { cause });
    this.name = 'RetryAbortedError';
  }
}

/**
 * Runs fn until it resolves, at most `attempts` times. Rejects with the last error when
 * attempts are exhausted or the error is not retryable, RetryAbortedError when aborted.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}, hooks: RetryHooks = {}): Promise<T> {
  const attempts = Math.max(1, options.attempts ?? DEFAULT_RETRY.attempts);
  const retryable = options.isRetryable ?? isRetryableError;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error) {
      if (attempt >= attempts || !retryable(error)) throw error;
      if (hooks.signal?.aborted) throw new RetryAbortedError(attempt, error);
      const delay = backoffDelay(attempt, options);
      hooks.onRetry?.(error, attempt, delay);
      try {
        await (hooks.sleep ? hooks.sleep(delay, hooks.signal) : sleep(delay, undefined, { signal: hooks.signal }));
      } catch {
        throw new RetryAbortedError(attempt, error);
      }
    }
  }
}
