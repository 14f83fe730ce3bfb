import { afterEach, describe, expect, it, vi } from 'vitest';
import { Cpg } from '../../../src/corosync/cpg';
import { CorosyncError } from '../../../src/corosync/errors';
import { backoffDelays } from '../../../src/corosync/retry';
import { FakeCpg, cpgs } from './fakes';

afterEach(() => {
  cpgs.instances.length = 0;
  vi.useRealTimers();
});

const FAST = { firstDelayMs: 1, maxDelayMs: 4, budgetMs: 50 };

describe('Cpg', () => {
  it('opens the named group and forwards join/leave/members/localNodeId', () => {
    const cpg = new Cpg('vmmgr', FakeCpg);
    const fake = cpgs.last();
    expect(fake.groupName).toBe('vmmgr');
    fake.memberList = [{ nodeId: 1, pid: 10, reason: 1 }];
    cpg.join();
    expect(cpg.members()).toEqual([{ nodeId: 1, pid: 10, reason: 1 }]);
    expect(cpg.localNodeId()).toBe(2);
    cpg.leave();
    expect(fake.calls).toEqual(['join', 'members', 'localNodeId', 'leave']);
  });

  it('re-emits message, confchg and totem events', () => {
    const cpg = new Cpg('g', FakeCpg);
    const seen: unknown[] = [];
    cpg.on('message', (e) => seen.push(['message', e.nodeId, e.pid, e.data.toString()]));
    cpg.on('confchg', (e) => seen.push(['confchg', e]));
    cpg.on('totem', (e) => seen.push(['totem', e]));
    const member = { nodeId: 1, pid: 7, reason: 1 };
    cpgs.last().emit('confchg', { members: [member], joined: [member], left: [] });
    cpgs.last().emit('totem', { ringId: { nodeId: 1, seq: 4 }, members: [1, 2, 3] });
    cpgs.last().emit('message', { nodeId: 1, pid: 7, data: Buffer.from('hi') });
    expect(seen).toEqual([
      ['confchg', { members: [member], joined: [member], left: [] }],
      ['totem', { ringId: { nodeId: 1, seq: 4 }, members: [1, 2, 3] }],
      ['message', 1, 7, 'hi'],
    ]);
  });

  it('sends at once when corosync accepts', async () => {
    const cpg = new Cpg('g', FakeCpg);
    await cpg.send(Buffer.from('a'));
    expect(cpgs.last().sent.map(String)).toEqual(['a']);
    expect(cpg.sendRetries).toBe(0);
  });

  it('retries a send under flow control and keeps later sends behind it, in order', async () => {
    const cpg = new Cpg('g', FakeCpg, FAST);
    const fake = cpgs.last();
    fake.failNext('mcast', 'CS_ERR_TRY_AGAIN', 3);
    const sends = ['1', '2', '3'].map((m) => cpg.send(Buffer.from(m)));
    expect(fake.sent).toEqual([]); // '1' is waiting out flow control, '2' and '3' wait behind it
    await Promise.all(sends);
    expect(fake.sent.map(String)).toEqual(['1', '2', '3']);
    expect(fake.calls.filter((c) => c === 'mcast')).toHaveLength(6);
    expect(cpg.sendRetries).toBe(3); // one per CS_ERR_TRY_AGAIN answer
  });

  it('rejects with CS_ERR_TRY_AGAIN once the retry budget is spent, then sends the next', async () => {
    const cpg = new Cpg('g', FakeCpg, FAST);
    const fake = cpgs.last();
    fake.failNext('mcast', 'CS_ERR_TRY_AGAIN', 1000);
    const first = cpg.send(Buffer.from('1'));
    const second = cpg.send(Buffer.from('2'));
    await expect(first).rejects.toMatchObject({ code: 'CS_ERR_TRY_AGAIN', errno: 6 });
    // '1' was tried once plus once after each delay the policy allows (1, 2, 4, 4 ... = 50 ms).
    expect(fake.calls.length).toBeGreaterThanOrEqual([...backoffDelays(FAST)].length + 1);
    expect(cpg.sendRetries).toBeGreaterThanOrEqual([...backoffDelays(FAST)].length);
    expect(fake.sent).toEqual([]);
    cpg.close(); // '2' is still retrying; closing rejects it
    await expect(second).rejects.toMatchObject({ code: 'CS_ERR_BAD_HANDLE' });
  });

  it('rejects a send failing with another error at once and continues with the next', async () => {
    const cpg = new Cpg('g', FakeCpg, FAST);
    cpgs.last().failNext('mcast', 'CS_ERR_NOT_EXIST');
    const first = cpg.send(Buffer.from('1'));
    const second = cpg.send(Buffer.from('2'));
    await expect(first).rejects.toBeInstanceOf(CorosyncError);
    await second;
    expect(cpgs.last().sent.map(String)).toEqual(['2']);
  });

  it('rejects pending sends on disconnect and on close', async () => {
    const cpg = new Cpg('g', FakeCpg, FAST);
    const fake = cpgs.last();
    fake.failNext('mcast', 'CS_ERR_TRY_AGAIN', 1000);
    const pending = cpg.send(Buffer.from('1'));
    const disconnects: CorosyncError[] = [];
    cpg.on('disconnect', (e) => disconnects.push(e));
    fake.emit('disconnect', new CorosyncError('CS_ERR_LIBRARY', 'dispatch'));
    await expect(pending).rejects.toMatchObject({ code: 'CS_ERR_LIBRARY' });
    expect(disconnects).toHaveLength(1);
    await expect(cpg.send(Buffer.from('2'))).rejects.toMatchObject({ code: 'CS_ERR_BAD_HANDLE' });

    const other = new Cpg('g', FakeCpg, FAST);
    cpgs.last().failNext('mcast', 'CS_ERR_TRY_AGAIN', 1000);
    const queued = other.send(Buffer.from('x'));
    other.close();
    other.close();
    await expect(queued).rejects.toMatchObject({ code: 'CS_ERR_BAD_HANDLE' });
    expect(cpgs.last().closeCount).toBe(1);
  });

  it('rejects a non-Buffer payload', async () => {
    const cpg = new Cpg('g', FakeCpg);
    await expect(cpg.send('text' as unknown as Buffer)).rejects.toBeInstanceOf(TypeError);
  });

  it('unrefs its flow-control retry timer along with the handle', async () => {
    vi.useFakeTimers();
    const cpg = new Cpg('g', FakeCpg, FAST);
    cpgs.last().failNext('mcast', 'CS_ERR_TRY_AGAIN', 1);
    cpg.unref();
    const sent = cpg.send(Buffer.from('1'));
    expect(cpgs.last().referenced).toBe(false);
    await vi.advanceTimersByTimeAsync(5);
    await sent;
    expect(cpgs.last().sent.map(String)).toEqual(['1']);
  });
});
