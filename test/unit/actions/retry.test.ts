import { describe, expect, it } from 'vitest';
import { backoffDelay, retry, RetryAbortedError } from '../../../src/actions/retry';

describe('retry', () => {
  it('retries until success with growing, capped delays', async () => {
    const delays: number[] = [];
    let calls = 0;
    const v = await retry(
      async (attempt) => {
        calls++;
        if (attempt < 4) throw new Error(`fail ${attempt}`);
        return 'done';
      },
      { attempts: 5, initialDelayMs: 1, factor: 3, maxDelayMs: 5 },
      { onRetry: (_e, _a, d) => delays.push(d) },
    );
    expect(v).toBe('done');
    expect(calls).toBe(4);
    expect(delays).toEqual([1, 3, 5]);
  });

  it('gives up after the bound with the last error', async () => {
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls++;
          throw new Error(`e${calls}`);
        },
        { attempts: 3, initialDelayMs: 1 },
      ),
    ).rejects.toThrow('e3');
    expect(calls).toBe(3);
  });

  it('does not retry an error marked retryable: false', async () => {
    let calls = 0;
    const err = Object.assign(new Error('fatal'), { retryable: false });
    await expect(
      retry(
        async () => {
          calls++;
          throw err;
        },
        { attempts: 5, initialDelayMs: 1 },
      ),
    ).rejects.toBe(err);
    expect(calls).toBe(1);
  });

  it('an abort during the backoff wait stops at once and leaves no timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const ac = new AbortController();
    const started = Date.now();
    const p = retry(
      async () => {
        throw new Error('x');
      },
      { attempts: 3, initialDelayMs: 60_000 },
      { signal: ac.signal, onRetry: () => setImmediate(() => ac.abort()) },
    );
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryAbortedError);
    expect(((err as RetryAbortedError).cause as Error).message).toBe('x');
    expect(Date.now() - started).toBeLessThan(30_000); // the backoff would be 60 s
    expect(timers()).toBe(before);
  });

  it('backoffDelay is exponential and capped', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, { initialDelayMs: 100, factor: 2, maxDelayMs: 1000 }))).toEqual([100, 200, 400, 800, 1000, 1000]);
  });
});
