import { describe, expect, it } from 'vitest';
import { STALE_SYNC_WAIT_MS, emptyPersistedState, initialState, mergeFailureRecords, transition, type ClusterView, type EngineEvent } from '../../../src/engine';
import { quorum, run, types, versions } from './engine-script';

const VIEW: ClusterView = {
  configVersion: 1,
  nodes: [2, 4, 8].map((nodeId, i) => ({ nodeId, ip: `198.18.0.${nodeId}`, prio: [99, 100, 98][i], replication: true })),
  takeoverDelayMs: 0,
};

const config: EngineEvent = { type: 'config', now: 0, view: VIEW };

describe('transition', () => {
  it('takes over in the documented order', () => {
    const r = run(initialState(2), [config, quorum(4, [2, 8]), versions([2, 8])]);
    expect(r.state.role).toBe('master');
    expect(types(r.effects[2])).toEqual(['removeRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService', 'announceTakeover', 'raisePriority', 'publishConfig']);
    expect(r.effects[2]).toContainEqual({ type: 'startService', failedNodes: [4] });
    expect(r.effects[2]).toContainEqual({ type: 'raisePriority', nodeId: 2, prio: 101, configVersion: 2 });
    expect(r.explanations[2]).toMatch(/^master: .*takeover; failed node\(s\): 4; priority raised to 101/);
  });

  it("waits for the first quorum report and for members' config versions", () => {
    const r = run(initialState(2), [config, quorum(4, [2, 4, 8])]);
    expect(r.state.role).toBe('unknown');
    expect(r.effects.flatMap(types)).toEqual([]);
    expect(r.explanations[1]).toMatch(/waiting for the config version of node\(s\) 4,8/);
  });

  it('suspends on quorum loss and on a corosync disconnect, dropping master duties', () => {
    const master = run(initialState(4), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    expect(master.role).toBe('master');
    for (const loss of [quorum(8, [4], false), { type: 'disconnected', now: 1 } as EngineEvent]) {
      const d = transition(master, loss);
      expect(d.state.role).toBe('suspended');
      expect(types(d.effects)).toEqual(['removeClusterIp', 'stopService', 'removeServiceLock', 'removeRelocatedLock', 'suspendVms']);
    }
    const slave = run(initialState(8, { ...emptyPersistedState(), lastRole: 'slave' }), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    expect(types(transition(slave, quorum(8, [8], false)).effects)).toEqual(['suspendVms']);
  });

  it('reports members that leave while master, once', () => {
    const master = run(initialState(4), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    const r = run(master, [quorum(8, [2, 4]), quorum(8, [2, 4])]);
    expect(r.effects[0]).toContainEqual({ type: 'reportNodesFailed', nodeIds: [8] });
    expect(r.effects[1].filter((e) => e.type === 'reportNodesFailed')).toEqual([]);
    expect(r.state.persisted.failureRecords).toEqual({ 8: 8 });
  });

  it('honours TakeoverDelay and ignores a timer that is no longer pending', () => {
    const view = { ...VIEW, takeoverDelayMs: 5000 };
    const r = run(initialState(2), [{ type: 'config', now: 0, view }, quorum(4, [2, 8]), versions([2, 8])]);
    expect(r.state.role).toBe('slave');
    expect(r.effects[2]).toContainEqual({ type: 'startTimer', id: 'takeover-1', ms: 5000 });
    expect(transition(r.state, { type: 'timerFired', now: 5000, id: 'takeover-0' }).state.role).toBe('slave');
    const lost = transition(r.state, quorum(8, [2], false)).state;
    expect(transition(lost, { type: 'timerFired', now: 5000, id: 'takeover-1' }).state.role).toBe('suspended');
    expect(transition(r.state, { type: 'timerFired', now: 5000, id: 'takeover-1' }).state.role).toBe('master');
  });

  it('a daemon restart on the master keeps .relocated and skips the delay', () => {
    const persisted = { ...emptyPersistedState(), lastRole: 'master' as const };
    const view = { ...VIEW, takeoverDelayMs: 5000 };
    const r = run(initialState(4, persisted), [{ type: 'config', now: 0, view }, quorum(4, [2, 4, 8]), versions([2, 4, 8])]);
    expect(r.state.role).toBe('master');
    expect(types(r.effects[2])).toEqual(['addClusterIp', 'createServiceLock', 'startService', 'announceTakeover']);
  });

  it('resumes suspended VMs only when no member knows of a failure report after the last quorate ring', () => {
    const slave = run(initialState(8, { ...emptyPersistedState(), lastRole: 'slave' }), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    const cut = run(slave, [quorum(8, [8], false), { type: 'vmsSuspended', now: 1, vms: ['a', 'b'] }]).state;
    expect(cut.persisted).toMatchObject({ suspendedVms: ['a', 'b'], suspendedAfterSeq: 4, suspendsPending: 0 });
    const back = run(cut, [quorum(16, [2, 4, 8]), versions([2, 4, 8])]);
    expect(back.effects.flatMap(types)).not.toContain('resumeVms');
    expect(back.explanations[1]).toMatch(/until failure records of node\(s\) 2,4 arrive/);
    const records = (from: number, recs: Record<number, number>, seq = 16): EngineEvent => ({ type: 'failureRecords', now: 2, from, ringId: { nodeId: 2, seq }, records: recs });
    // Node 4 (master meanwhile) reported 8 failed in ring 12 > 4: discard.
    const discarded = run(back.state, [records(2, {}), records(4, { 8: 12 })]);
    expect(discarded.effects[0].map((e) => e.type)).not.toContain('reportVmsDiscarded');
    expect(discarded.effects[1]).toContainEqual({ type: 'reportVmsDiscarded', vms: ['a', 'b'] });
    // Only an old report (ring 2, before the last quorate ring 4): resume.
    const resumed = run(back.state, [records(2, { 8: 2 }), records(4, {})]);
    expect(resumed.effects[1]).toContainEqual({ type: 'resumeVms', vms: ['a', 'b'] });
    expect(resumed.state.persisted.suspendedVms).toEqual([]);
    // Records of an older ring do not count as an answer.
    const other = transition(back.state, records(4, {}, 12));
    expect(other.state.recordsFrom).not.toContain(4);
    // Records of the next ring that arrive before its quorum event are kept for it.
    const early = run(cut, [records(2, {}, 16), records(4, { 8: 12 }, 16), quorum(16, [2, 4, 8]), versions([2, 4, 8])]);
    expect(early.effects.flat()).toContainEqual({ type: 'reportVmsDiscarded', vms: ['a', 'b'] });
  });

  it('quorum lost again before the first suspend result: the VM verdict waits for both results', () => {
    const slave = run(initialState(8, { ...emptyPersistedState(), lastRole: 'slave' }), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    const records = (from: number, seq: number): EngineEvent => ({ type: 'failureRecords', now: 2, from, ringId: { nodeId: 2, seq }, records: {} });
    const twice = run(slave, [
      quorum(8, [8], false), // suspend 1
      quorum(12, [2, 4, 8]),
      versions([2, 4, 8]),
      quorum(16, [8], false), // suspend 2, before result 1
      { type: 'vmsSuspended', now: 3, vms: ['a'] },
      quorum(20, [2, 4, 8]),
      versions([2, 4, 8]),
      records(2, 20),
      records(4, 20),
    ]);
    expect(twice.effects.flat().filter((e) => e.type === 'suspendVms')).toHaveLength(2);
    expect(twice.effects.flat().map((e) => e.type)).not.toContain('resumeVms');
    expect(twice.state.persisted.suspendsPending).toBe(1);
    expect(twice.explanations.at(-1)).toMatch(/waits for the suspend result/);
    // The second result: both lists are settled together (nobody reported node 8 failed).
    const settled = run(twice.state, [{ type: 'vmsSuspended', now: 4, vms: ['b'] }]);
    expect(settled.effects[0]).toContainEqual({ type: 'resumeVms', vms: ['a', 'b'] });
    expect(settled.state.persisted).toMatchObject({ suspendedVms: [], suspendedAfterSeq: null, suspendsPending: 0 });
  });

  it('decides with its own table: versions saying it is newer than its view make it stale, not master', () => {
    // Old master n4 rejoins: the new file (n2 prio 101, version 2) is installed and corosync
    // reports version 2 for everyone, but n4 has not re-read its file yet (view: version 1,
    // where n4's 100 is the highest). With the old table it would name itself master.
    const r = run(initialState(4), [config, quorum(20, [2, 4, 8]), versions([2, 4, 8], 2)]);
    expect(r.state.role).toBe('slave');
    expect(r.effects.flatMap(types)).not.toContain('addClusterIp');
    expect(r.explanations[2]).toMatch(/older than another member's/);
    // Once the new table is read, it elects n2 like everyone else.
    const view2: ClusterView = { ...VIEW, configVersion: 2, nodes: VIEW.nodes.map((n) => (n.nodeId === 2 ? { ...n, prio: 101 } : n)) };
    const d = transition(r.state, { type: 'config', now: 0, view: view2 });
    expect(d.state.role).toBe('slave');
    expect(d.state.masterId).toBe(2);
  });

  it('does not take over while a member that outranks it in the newest table is still stale', () => {
    // n2 (99) holds version 2; n4 (100) is still at 1 and gets the file from the publisher.
    const v2: EngineEvent = { type: 'config', now: 0, view: { ...VIEW, configVersion: 2 } };
    const held = run(initialState(2), [v2, quorum(4, [2, 4]), { type: 'configVersions', now: 0, versions: { 2: 2, 4: 1 } }]);
    expect(held.state.role).toBe('slave');
    expect(held.state.masterId).toBe(2);
    expect(held.effects[2]).toContainEqual({ type: 'startTimer', id: 'takeover-1', ms: STALE_SYNC_WAIT_MS });
    expect(held.effects[2]).toContainEqual({ type: 'publishConfig', configVersion: 2 });
    expect(held.explanations[2]).toMatch(/node\(s\) 4 outrank us in the newest table/);

    // n4 installs it: n4 is elected, the pending takeover is dropped.
    const synced = run(held.state, [{ type: 'configVersions', now: 1, versions: { 4: 2 } }]);
    expect(synced.state.masterId).toBe(4);
    expect(synced.state.takeoverTimer).toBeNull();
    expect(types(synced.effects[0])).not.toContain('addClusterIp');

    // n4 never gets it (its listener is down): the wait ends and n2 takes over.
    const timedOut = run(held.state, [{ type: 'timerFired', now: STALE_SYNC_WAIT_MS, id: 'takeover-1' }]);
    expect(timedOut.state.role).toBe('master');
    expect(types(timedOut.effects[0])).toContain('addClusterIp');
  });

  it('emits persistState only when the persisted part changes', () => {
    const s = run(initialState(8), [config, quorum(4, [2, 4, 8]), versions([2, 4, 8])]).state;
    expect(transition(s, versions([2, 4, 8])).effects).toEqual([]);
    const d = transition(s, quorum(8, [8], false));
    expect(d.effects[0]).toEqual({ type: 'persistState', state: d.state.persisted });
  });
});

describe('mergeFailureRecords', () => {
  it('keeps the highest seq per node and ignores malformed entries', () => {
    const into = { 1: 5 };
    expect(mergeFailureRecords(into, { 1: 3, 2: 7 } as Record<number, number>)).toEqual({ records: { 1: 5, 2: 7 }, changed: true });
    expect(mergeFailureRecords(into, { 1: 4 })).toEqual({ records: into, changed: false });
    expect(mergeFailureRecords(into, { x: 9, 3: 'no' } as unknown as Record<number, number>).changed).toBe(false);
  });
});
