import { describe, expect, it } from 'vitest';
import { CorosyncError, CS_ERRORS, isTryAgain } from '../../../src/corosync/errors';
import { backoffDelays, retrySync, SEND_RETRY, SYNC_RETRY } from '../../../src/corosync/retry';

describe('CorosyncError', () => {
  it('carries the corotypes.h name as code and the number as errno', () => {
    const error = new CorosyncError(2, 'dispatch');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('CorosyncError');
    expect(error.code).toBe('CS_ERR_LIBRARY');
    expect(error.errno).toBe(2);
    expect(error.operation).toBe('dispatch');
    expect(error.message).toBe('dispatch failed: CS_ERR_LIBRARY (2)');
  });

  it('accepts a name and maps every corotypes.h value both ways', () => {
    for (const [code, errno] of Object.entries(CS_ERRORS)) {
      expect(new CorosyncError(errno, 'x').code).toBe(code);
      expect(new CorosyncError(code as keyof typeof CS_ERRORS, 'x').errno).toBe(errno);
    }
    expect(new CorosyncError('CS_ERR_TRY_AGAIN', 'x').errno).toBe(6);
  });

  it('names numbers corotypes.h lacks CS_ERR_UNKNOWN, keeping the errno', () => {
    const error = new CorosyncError(29, 'x');
    expect(error.code).toBe('CS_ERR_UNKNOWN');
    expect(error.errno).toBe(29);
  });
});

describe('retry', () => {
  it('bounds the total backoff by the budget, doubling up to the cap', () => {
    const delays = [...backoffDelays(SYNC_RETRY)];
    expect(delays.slice(0, 7)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(SYNC_RETRY.budgetMs);
    const send = [...backoffDelays(SEND_RETRY)];
    expect(Math.max(...send)).toBe(SEND_RETRY.maxDelayMs);
    expect(send.reduce((a, b) => a + b, 0)).toBe(SEND_RETRY.budgetMs);
  });

  it('retries TRY_AGAIN until success, and nothing else', () => {
    let calls = 0;
    const value = retrySync(() => {
      if (++calls < 4) throw new CorosyncError('CS_ERR_TRY_AGAIN', 'x');
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(calls).toBe(4);

    calls = 0;
    expect(() =>
      retrySync(() => {
        calls++;
        throw new CorosyncError('CS_ERR_ACCESS', 'x');
      }),
    ).toThrow(expect.objectContaining({ code: 'CS_ERR_ACCESS' }));
    expect(calls).toBe(1);
  });

  it('gives up with the TRY_AGAIN error once the budget is spent', () => {
    const policy = { firstDelayMs: 1, maxDelayMs: 2, budgetMs: 5 };
    let calls = 0;
    let caught: unknown;
    try {
      retrySync(() => {
        calls++;
        throw new CorosyncError('CS_ERR_TRY_AGAIN', 'x');
      }, policy);
    } catch (error) {
      caught = error;
    }
    expect(isTryAgain(caught)).toBe(true);
    expect(calls).toBe([...backoffDelays(policy)].length + 1); // delays 1, 2, 2 -> 4 calls
    expect(calls).toBe(4);
  });
});
