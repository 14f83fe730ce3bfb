import { describe, expect, it } from 'vitest';
import { mergeMemberVersions, type CorosyncHandlers } from '../../../src/daemon/corosync-port';

function recorder(): { handlers: CorosyncHandlers; seen: unknown[] } {
  const seen: unknown[] = [];
  return {
    seen,
    handlers: {
      onQuorum: (e) => seen.push(['quorum', e.members]),
      onMessage: (m) => seen.push(['message', m.nodeId]),
      onConfigChanged: () => seen.push(['config']),
      onMemberVersions: (v) => seen.push(['versions', v]),
      onDisconnect: () => seen.push(['disconnect']),
      onGroupMembership: (e) => seen.push(['group', e.joined]),
    },
  };
}

describe('member versions reported by cmap one key at a time', () => {
  it('reaches the daemon as one event per run, the later value of a node winning', () => {
    const { handlers, seen } = recorder();
    const deferred: Array<() => void> = [];
    const h = mergeMemberVersions(handlers, (f) => deferred.push(f));
    h.onMemberVersions({ 1: 5 });
    h.onMemberVersions({ 2: 5 });
    h.onMemberVersions({ 1: 6, 3: 6 });
    expect(seen).toEqual([]);
    for (const f of deferred.splice(0)) f();
    expect(seen).toEqual([['versions', { 1: 6, 2: 5, 3: 6 }]]);
  });

  it('keeps every other event in its place: what came before it is delivered first', () => {
    const { handlers, seen } = recorder();
    const deferred: Array<() => void> = [];
    const h = mergeMemberVersions(handlers, (f) => deferred.push(f));
    h.onMemberVersions({ 1: 5 });
    h.onQuorum({ quorate: true, ringId: { nodeId: 1, seq: 4 }, members: [1, 2] });
    h.onMemberVersions({ 2: 5 });
    h.onMessage({ nodeId: 2, own: false, data: Buffer.from('x') });
    h.onMemberVersions({ 2: 6 });
    h.onGroupMembership!({ members: [1, 2], joined: [2] });
    h.onConfigChanged();
    h.onMemberVersions({ 3: 7 });
    h.onDisconnect(new Error('gone'));
    for (const f of deferred.splice(0)) f(); // nothing left to deliver: no empty event
    expect(seen).toEqual([
      ['versions', { 1: 5 }],
      ['quorum', [1, 2]],
      ['versions', { 2: 5 }],
      ['message', 2],
      ['versions', { 2: 6 }],
      ['group', [2]],
      ['config'],
      ['versions', { 3: 7 }],
      ['disconnect'],
    ]);
  });

  it('delivers at the end of the loop turn by default', async () => {
    const { handlers, seen } = recorder();
    const h = mergeMemberVersions(handlers);
    h.onMemberVersions({ 1: 5 });
    h.onMemberVersions({ 2: 5 });
    await new Promise<void>((r) => setImmediate(r));
    expect(seen).toEqual([['versions', { 1: 5, 2: 5 }]]);
  });
});
