import { afterEach, describe, expect, it } from 'vitest';
import { CorosyncError } from '../../../src/corosync/errors';
import { Quorum } from '../../../src/corosync/quorum';
import { Cfg } from '../../../src/corosync/cfg';
import { Votequorum } from '../../../src/corosync/votequorum';
import { FakeCfg, FakeQuorum, FakeVotequorum, cfgs, failingConstructor, quorums, votequorums } from './fakes';

afterEach(() => {
  quorums.instances.length = 0;
  cfgs.instances.length = 0;
  votequorums.instances.length = 0;
});

describe('Quorum', () => {
  it('re-emits quorum and nodelist events unchanged', () => {
    const quorum = new Quorum(FakeQuorum);
    const seen: unknown[] = [];
    quorum.on('quorum', (event) => seen.push(['quorum', event]));
    quorum.on('nodelist', (event) => seen.push(['nodelist', event]));
    const ringId = { nodeId: 1, seq: 8 };
    quorums.last().emit('nodelist', { ringId, members: [1, 2], joined: [], left: [3] });
    quorums.last().emit('quorum', { quorate: true, ringId, members: [1, 2] });
    expect(seen).toEqual([
      ['nodelist', { ringId, members: [1, 2], joined: [], left: [3] }],
      ['quorum', { quorate: true, ringId, members: [1, 2] }],
    ]);
  });

  it('retries quorate() on CS_ERR_TRY_AGAIN', () => {
    const quorum = new Quorum(FakeQuorum);
    quorums.last().failNext('quorate', 'CS_ERR_TRY_AGAIN', 3);
    expect(quorum.quorate()).toBe(true);
    expect(quorums.last().calls).toEqual(['quorate', 'quorate', 'quorate', 'quorate']);
  });

  it('does not retry other errors, and throws them as CorosyncError', () => {
    const quorum = new Quorum(FakeQuorum);
    quorums.last().failNext('quorate', 'CS_ERR_ACCESS');
    expect(() => quorum.quorate()).toThrow(CorosyncError);
    expect(quorums.last().calls).toEqual(['quorate']);
  });

  it('retries the initialisation on CS_ERR_TRY_AGAIN', () => {
    const failing = failingConstructor(FakeQuorum, 'CS_ERR_TRY_AGAIN', 2);
    const quorum = new Quorum(failing.ctor);
    expect(failing.attempts()).toBe(3);
    expect(quorum.isOpen).toBe(true);
  });

  it('throws an initialisation failure other than TRY_AGAIN at once', () => {
    const failing = failingConstructor(FakeQuorum, 'CS_ERR_LIBRARY', 1);
    expect(() => new Quorum(failing.ctor)).toThrow(expect.objectContaining({ code: 'CS_ERR_LIBRARY', errno: 2 }));
    expect(failing.attempts()).toBe(1);
  });

  it('emits disconnect once from the native layer, then refuses calls and finalizes', async () => {
    const quorum = new Quorum(FakeQuorum);
    const disconnects: CorosyncError[] = [];
    quorum.on('disconnect', (error) => disconnects.push(error));
    quorums.last().emit('disconnect', new CorosyncError('CS_ERR_LIBRARY', 'dispatch'));
    expect(disconnects.map((e) => [e.code, e.errno])).toEqual([['CS_ERR_LIBRARY', 2]]);
    expect(quorum.isOpen).toBe(false);
    expect(() => quorum.quorate()).toThrow(expect.objectContaining({ code: 'CS_ERR_BAD_HANDLE' }));
    // The native handle stopped polling; it is finalized once, on the next loop turn.
    expect(quorums.last().closeCount).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(quorums.last().closeCount).toBe(1);
    quorum.close();
    expect(quorums.last().closeCount).toBe(1);
  });

  it('does not throw on disconnect without a listener', () => {
    new Quorum(FakeQuorum);
    expect(() => quorums.last().emit('disconnect', new CorosyncError(2, 'dispatch'))).not.toThrow();
  });

  it('closes the native handle exactly once however often close() is called', () => {
    const quorum = new Quorum(FakeQuorum);
    quorum.close();
    quorum.close();
    expect(quorums.last().closeCount).toBe(1);
    expect(() => quorum.quorate()).toThrow(expect.objectContaining({ code: 'CS_ERR_BAD_HANDLE', errno: 9 }));
  });

  it('passes ref/unref through and chains', () => {
    const quorum = new Quorum(FakeQuorum);
    expect(quorum.unref()).toBe(quorum);
    expect(quorums.last().referenced).toBe(false);
    quorum.ref();
    expect(quorums.last().referenced).toBe(true);
  });
});

describe('Cfg', () => {
  it('forwards localNodeId and reloadConfig, retrying TRY_AGAIN', () => {
    const cfg = new Cfg(FakeCfg);
    const fake = cfgs.last();
    fake.failNext('reloadConfig', 'CS_ERR_TRY_AGAIN', 2);
    cfg.reloadConfig();
    expect(fake.reloads).toBe(1);
    expect(cfg.localNodeId()).toBe(3);
  });
});

describe('Votequorum', () => {
  it('asks for the local node by default and decodes the flags', () => {
    const vq = new Votequorum(FakeVotequorum);
    const fake = votequorums.last();
    fake.flags = 2 | 1 | 4; // quorate, two_node, wait_for_all
    const info = vq.info();
    expect(fake.asked).toEqual([0]);
    expect(info).toMatchObject({
      nodeId: 1,
      expectedVotes: 3,
      totalVotes: 2,
      quorum: 2,
      quorate: true,
      twoNode: true,
      waitForAll: true,
      lastManStanding: false,
    });
    fake.flags = 0;
    expect(vq.info(2)).toMatchObject({ nodeId: 2, quorate: false });
  });
});
