// Self-fencing in the engine (src/engine/fencing.ts): when the watchdog may be fed, and when a
// master may restore a departed node's VMs (only after that node's fence window).
import { describe, expect, it } from 'vitest';
import { fenceSafety, initialState, pendingFences, transition, type ClusterView, type Effect, type EngineEvent, type EngineState } from '../../../src/engine';

const VIEW: ClusterView = {
  configVersion: 1,
  nodes: [2, 4, 8].map((nodeId, i) => ({ nodeId, ip: `198.18.0.${nodeId}`, prio: [99, 100, 98][i], replication: true })),
  takeoverDelayMs: 0,
};
const WATCHDOG = { timeoutMs: 10_000, marginMs: 3_000 };

function run(state: EngineState, events: EngineEvent[]): { state: EngineState; effects: Effect[][]; explanations: string[] } {
  const effects: Effect[][] = [];
  const explanations: string[] = [];
  for (const e of events) {
    const d = transition(state, e);
    state = d.state;
    effects.push(d.effects);
    explanations.push(d.explanation);
  }
  return { state, effects, explanations };
}

const quorum = (now: number, seq: number, members: number[], quorate = true): EngineEvent => ({ type: 'quorum', now, quorate, ringId: { nodeId: members[0] ?? 0, seq }, members });
const versions = (now: number, ids: number[]): EngineEvent => ({ type: 'configVersions', now, versions: Object.fromEntries(ids.map((id) => [id, 1])) });
const fencing = (watchdog: typeof WATCHDOG | null, twoNodeWithoutQdevice = false): EngineEvent => ({ type: 'fencing', now: 0, watchdog, twoNodeWithoutQdevice });
const records = (now: number, from: number, seq: number, fenceWindows: Record<number, number>): EngineEvent => ({
  type: 'failureRecords',
  now,
  from,
  ringId: { nodeId: 2, seq },
  records: {},
  fenceWindows,
});
const restoring = (effects: Effect[]): Effect[] => effects.filter((e) => (e.type === 'startService' && e.failedNodes.length > 0) || e.type === 'reportNodesFailed');

/** n2 as a slave of n4 in a quorate 3-node ring at t=1000, n4 having announced a 13 s window. */
function slaveOfN4(watchdog: typeof WATCHDOG | null = WATCHDOG, n4Window: number | null = 13_000): EngineState {
  const events: EngineEvent[] = [fencing(watchdog), { type: 'config', now: 0, view: VIEW }, quorum(1000, 4, [2, 4, 8]), versions(1000, [2, 4, 8])];
  if (n4Window !== null) events.push(records(1000, 4, 4, { 4: n4Window }));
  return run(initialState(2), events).state;
}

describe('fencing: restores wait for the fence window', () => {
  it('takes the cluster IP and starts VMmanager at once, but restores the departed master only after its window', () => {
    const s0 = slaveOfN4();
    const take = run(s0, [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]);
    expect(take.state.role).toBe('master');
    const plan = take.effects.flat();
    expect(plan.map((e) => e.type)).toEqual(expect.arrayContaining(['addClusterIp', 'createServiceLock', 'startService']));
    expect(plan).toContainEqual({ type: 'startService', failedNodes: [] });
    expect(take.explanations.join(' ')).toMatch(/restore of node\(s\) 4 waits for their fence window/);
    // n4 left at 5000 (the quorum event): its window of 13 s ends at 18000.
    const timer = plan.find((e) => e.type === 'startTimer');
    expect(timer).toMatchObject({ type: 'startTimer', ms: 13_000 });
    expect(pendingFences(take.state, 6000)).toEqual([{ nodeId: 4, leftAt: 5000, endsAt: 18_000, waitingFor: 'window' }]);
    // Nothing before the window: another event at 17999 restores nothing.
    const early = transition(take.state, versions(17_999, [2, 8]));
    expect(restoring(early.effects)).toEqual([]);
    // The timer fires: recorded failed, shared, reported (NodeFailedCommand), once.
    const id = (timer as { id: string }).id;
    const due = transition(early.state, { type: 'timerFired', now: 18_000, id });
    expect(restoring(due.effects)).toEqual([{ type: 'reportNodesFailed', nodeIds: [4] }]);
    const types = due.effects.map((e) => e.type);
    expect(types.indexOf('broadcastFailureRecords')).toBeLessThan(types.indexOf('reportNodesFailed'));
    expect(due.state.persisted.failureRecords[4]).toBe(8);
    expect(due.explanation).toMatch(/fence window of node\(s\) 4 passed: reported failed/);
    const again = transition(due.state, versions(30_000, [2, 8]));
    expect(restoring(again.effects)).toEqual([]);
    expect(pendingFences(again.state, 30_000)).toEqual([]);
  });

  it('forgets a pending restore when the node comes back before its window ends (no record: it resumes its own VMs)', () => {
    const take = run(slaveOfN4(), [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]).state;
    const back = run(take, [quorum(9000, 12, [2, 4, 8]), versions(9000, [2, 4, 8])]);
    expect(back.explanations.join(' ')).toMatch(/node\(s\) 4 back before their fence window ended: not restored/);
    expect(back.state.persisted.failureRecords[4]).toBeUndefined();
    expect(back.effects.flatMap(restoring)).toEqual([]);
    expect(pendingFences(back.state, 9000)).toEqual([]);
  });

  it('holds a node whose window is unknown while this node fences, and restores it once the window is learnt', () => {
    const take = run(slaveOfN4(WATCHDOG, null), [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]);
    expect(take.effects.flat()).toContainEqual({ type: 'startService', failedNodes: [] });
    expect(take.effects.flat().some((e) => e.type === 'startTimer')).toBe(false);
    expect(pendingFences(take.state, 6000)).toEqual([{ nodeId: 4, leftAt: 5000, endsAt: null, waitingFor: 'unknown-window' }]);
    // n8 knew n4's window (hearsay): the window is counted from n4's departure.
    const learnt = transition(take.state, records(20_000, 8, 8, { 4: 13_000, 8: 13_000 }));
    expect(restoring(learnt.effects)).toEqual([{ type: 'reportNodesFailed', nodeIds: [4] }]);
  });

  it('without a watchdog here, restores at once as before fencing existed (unknown windows count as none)', () => {
    const take = run(slaveOfN4(null, null), [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]);
    expect(take.effects.flat()).toContainEqual({ type: 'startService', failedNodes: [4] });
  });

  it('a node that announced no watchdog (window 0) is restored at once even by a fencing master', () => {
    const take = run(slaveOfN4(WATCHDOG, 0), [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]);
    expect(take.effects.flat()).toContainEqual({ type: 'startService', failedNodes: [4] });
  });

  it('a slave that leaves a fencing master is reported only after its window', () => {
    let s = run(initialState(4), [fencing(WATCHDOG), { type: 'config', now: 0, view: VIEW }, quorum(1000, 4, [2, 4, 8]), versions(1000, [2, 4, 8]), records(1000, 8, 4, { 8: 5000 })]).state;
    expect(s.role).toBe('master');
    const left = transition(s, quorum(2000, 8, [2, 4]));
    expect(restoring(left.effects)).toEqual([]);
    expect(left.explanation).toMatch(/node\(s\) 8 left/);
    s = run(left.state, [versions(2000, [2, 4])]).state;
    const timer = s.fencing.timer;
    expect(timer).toMatchObject({ at: 7000 });
    const due = transition(s, { type: 'timerFired', now: 7000, id: timer?.id ?? '' });
    expect(restoring(due.effects)).toEqual([{ type: 'reportNodesFailed', nodeIds: [8] }]);
  });

  it('counts a departure from when this node could watch it: coming back from a minority, absent nodes left just now', () => {
    // n2 is cut off at 2000 (minority), then rejoins n8 at 50000 with n4 gone: n4 may have been
    // master of the majority until just before, so its window counts from 50000, not 2000.
    const s = run(slaveOfN4(), [quorum(2000, 8, [2], false), quorum(50_000, 12, [2, 8]), versions(50_000, [2, 8])]);
    expect(s.state.role).toBe('master');
    expect(pendingFences(s.state, 50_000)).toEqual([{ nodeId: 4, leftAt: 50_000, endsAt: 63_000, waitingFor: 'window' }]);
  });

  it('two_node without a qdevice: the other node is never restored (both sides of a split stay quorate)', () => {
    const view: ClusterView = { ...VIEW, nodes: VIEW.nodes.slice(0, 2) };
    let s = run(initialState(2), [fencing(null, true), { type: 'config', now: 0, view }, quorum(1000, 4, [2, 4]), versions(1000, [2, 4])]).state;
    expect(s.role).toBe('slave');
    const split = run(s, [quorum(5000, 8, [2]), versions(5000, [2])]);
    s = split.state;
    expect(s.role).toBe('master');
    expect(split.effects.flat()).toContainEqual({ type: 'startService', failedNodes: [] });
    expect(pendingFences(s, 100_000)).toEqual([{ nodeId: 4, leftAt: 5000, endsAt: null, waitingFor: 'two-node-without-qdevice' }]);
    expect(restoring(transition(s, versions(1_000_000, [2])).effects)).toEqual([]);
  });

  it('a restarted master keeps what was pending and does not restate it in the start', () => {
    const take = run(slaveOfN4(), [quorum(5000, 8, [2, 8]), versions(5000, [2, 8])]).state;
    const restarted = run(initialState(2, take.persisted), [fencing(WATCHDOG), { type: 'config', now: 6000, view: VIEW }, quorum(6000, 8, [2, 8]), versions(6000, [2, 8])]);
    expect(restarted.state.role).toBe('master');
    expect(restarted.effects.flat()).toContainEqual({ type: 'startService', failedNodes: [] });
    // The persisted departure (5000) still counts: the window ends at 18000.
    expect(pendingFences(restarted.state, 6000)).toEqual([{ nodeId: 4, leftAt: 5000, endsAt: 18_000, waitingFor: 'window' }]);
  });
});

describe('fencing: when the watchdog may be fed', () => {
  it('quorate: safe; quorum lost: unsafe until the suspend result is in and the duties are confirmed released', () => {
    const master = run(initialState(4), [fencing(WATCHDOG), { type: 'config', now: 0, view: VIEW }, quorum(1000, 4, [2, 4, 8]), versions(1000, [2, 4, 8])]).state;
    expect(fenceSafety(master)).toEqual({ safe: true, why: 'quorate' });
    const lost = transition(master, quorum(2000, 8, [4], false)).state;
    expect(fenceSafety(lost).safe).toBe(false);
    expect(fenceSafety(lost).why).toMatch(/VMs not confirmed suspended yet, cluster IP not confirmed removed, VMmanager not confirmed stopped/);
    let s = run(lost, [
      { type: 'dutyReleased', now: 2100, duty: 'clusterIp' },
      { type: 'dutyReleased', now: 2200, duty: 'service' },
    ]).state;
    expect(fenceSafety(s).why).toBe('not quorate: VMs not confirmed suspended yet');
    const failed = transition(s, { type: 'vmsSuspended', now: 2300, vms: ['a'], failed: true }).state;
    expect(fenceSafety(failed)).toEqual({ safe: false, why: 'not quorate: the VM suspend failed' });
    s = transition(s, { type: 'vmsSuspended', now: 2300, vms: ['a', 'b'] }).state;
    expect(fenceSafety(s)).toEqual({ safe: true, why: 'not quorate, every VM suspended, no master duty held' });
  });

  it('a slave that never held duties is safe as soon as its suspend returns; nothing known yet is unsafe', () => {
    expect(fenceSafety(initialState(2)).safe).toBe(false);
    const slave = run(initialState(2, { ...initialState(2).persisted, lastRole: 'slave' }), [{ type: 'config', now: 0, view: VIEW }, quorum(1000, 4, [2, 4, 8]), versions(1000, [2, 4, 8])]).state;
    const lost = transition(slave, quorum(2000, 8, [2], false)).state;
    expect(fenceSafety(lost).why).toBe('not quorate: VMs not confirmed suspended yet');
    expect(fenceSafety(transition(lost, { type: 'vmsSuspended', now: 2100, vms: [] }).state).safe).toBe(true);
  });

  it('gossips the fence windows with the failure records and keeps a node its own word', () => {
    const s = run(initialState(2), [fencing(WATCHDOG), { type: 'config', now: 0, view: VIEW }, quorum(1000, 4, [2, 4, 8]), versions(1000, [2, 4, 8])]);
    const sent = s.effects.flat().find((e) => e.type === 'broadcastFailureRecords');
    expect(sent).toMatchObject({ fenceWindows: { 2: 13_000 } });
    const heard = run(s.state, [records(1000, 8, 4, { 4: 20_000, 8: 5000 }), records(1000, 4, 4, { 4: 9000 })]).state;
    expect(heard.persisted.fenceWindows).toEqual({ 2: 13_000, 4: 9000, 8: 5000 });
  });
});
