// Issue 6, "racing changes": claimed versions (a node that elected another master skips the
// version that master may have written) and same-version conflicts (settled by the master
// raising again, never by comparing digests).
import { describe, expect, it } from 'vitest';
import { emptyPersistedState, initialState, transition, type ClusterView, type Effect, type EngineEvent, type EngineState, type PersistedState } from '../../../src/engine';

/** Nodes 1..5 with prio 10..50: node 5 is the master, node 4 next. */
const view = (configVersion: number, prios: Record<number, number> = {}): ClusterView => ({
  configVersion,
  nodes: [1, 2, 3, 4, 5].map((nodeId) => ({ nodeId, ip: `198.18.0.${nodeId}`, prio: prios[nodeId] ?? nodeId * 10, replication: true })),
  takeoverDelayMs: 0,
});
const config = (v: ClusterView): EngineEvent => ({ type: 'config', now: 0, view: v });
const quorum = (seq: number, members: number[]): EngineEvent => ({ type: 'quorum', now: seq, quorate: true, ringId: { nodeId: members[0], seq }, members });
const versions = (ids: number[], v: number): EngineEvent => ({ type: 'configVersions', now: 0, versions: Object.fromEntries(ids.map((id) => [id, v])) });
const conflict = (from: number, version: number, peerRole: 'master' | 'slave', peerMaster: number | null = null, peerSince: number | null = null): EngineEvent => ({
  type: 'configConflict',
  now: 0,
  from,
  version,
  peerRole,
  peerMaster: peerRole === 'master' ? from : peerMaster,
  peerSince,
});

function run(state: EngineState, events: EngineEvent[]): { state: EngineState; effects: Effect[]; explanation: string } {
  // Effects and explanations of every decision: a decision may be taken on the quorum event
  // already (versions kept for members that stayed) or only on the versions that follow.
  const effects: Effect[] = [];
  const explanations: string[] = [];
  for (const e of events) {
    const d = transition(state, e);
    state = d.state;
    effects.push(...d.effects);
    explanations.push(d.explanation);
  }
  return { state, effects, explanation: explanations.join(' | ') };
}

const raises = (effects: Effect[]): Effect[] => effects.filter((e) => e.type === 'raisePriority' || e.type === 'publishConfig');
const persisted = (effects: Effect[]): PersistedState | undefined => effects.find((e): e is Extract<Effect, { type: 'persistState' }> => e.type === 'persistState')?.state;

/** Node 3 in a healthy 5-node ring at version 1 (master 5), then 5 fails: 4 is elected. */
function node3AfterMasterFailure(): EngineState {
  const s = run(initialState(3), [config(view(1)), quorum(4, [1, 2, 3, 4, 5]), versions([1, 2, 3, 4, 5], 1)]).state;
  expect(s.masterId).toBe(5);
  return run(s, [quorum(8, [1, 2, 3, 4]), versions([1, 2, 3, 4], 1)]).state;
}

describe('claimed versions', () => {
  it('electing another node that will raise its priority claims the version it will write, persisted', () => {
    const s0 = run(initialState(3), [config(view(1)), quorum(4, [1, 2, 3, 4, 5])]).state;
    const d = transition(s0, versions([1, 2, 3, 4, 5], 1));
    // Node 5 already outranks everyone: it writes nothing, so nothing is claimed.
    expect(d.state.persisted.claimedVersion).toBeNull();
    const d2 = run(d.state, [quorum(8, [1, 2, 3, 4]), versions([1, 2, 3, 4], 1)]);
    expect(d2.state.masterId).toBe(4);
    expect(d2.state.persisted.claimedVersion).toEqual({ by: 4, version: 2 });
    expect(persisted(d2.effects)?.claimedVersion).toEqual({ by: 4, version: 2 });
  });

  it('is forgotten once the claimed version arrives, and the next takeover writes previous + 1', () => {
    const s = node3AfterMasterFailure();
    // Node 4's file (version 2, prio 51) arrives: the claim is settled.
    const got = run(s, [config(view(2, { 4: 51 })), versions([1, 2, 3, 4], 2)]);
    expect(got.state.persisted.claimedVersion).toBeNull();
    expect(got.state.masterId).toBe(4);
    // Node 4 fails as well: node 3 takes over with version 3 = 2 + 1, nothing skipped.
    const r = run(got.state, [quorum(12, [1, 2, 3]), versions([1, 2, 3], 2)]);
    expect(r.state.role).toBe('master');
    expect(raises(r.effects)).toEqual([
      { type: 'raisePriority', nodeId: 3, prio: 52, configVersion: 3 },
      { type: 'publishConfig', configVersion: 3 },
    ]);
    expect(r.explanation).not.toMatch(/skipping/);
  });

  it('a takeover after the elected master vanished unseen skips its version and says why', () => {
    const s = node3AfterMasterFailure();
    // Node 4 is cut off before its file (version 2) reaches anyone: node 3 takes over.
    const r = run(s, [quorum(12, [1, 2, 3]), versions([1, 2, 3], 1)]);
    expect(r.state.role).toBe('master');
    expect(raises(r.effects)).toEqual([
      { type: 'raisePriority', nodeId: 3, prio: 51, configVersion: 3 },
      { type: 'publishConfig', configVersion: 3 },
    ]);
    expect(r.explanation).toMatch(/config_version 3: skipping 2, which node 4 may have written/);
    // Our own file at version 3 settles the claim.
    expect(transition(r.state, config(view(3, { 3: 51 }))).state.persisted.claimedVersion).toBeNull();
  });

  it('chained takeovers compose: each elected node is predicted after the previous claim', () => {
    // Node 1 sees 5 fail (4 elected: claims 2), then 4 vanish (3 elected: claims 3), then 3
    // vanish: node 2 takes over... node 1 is the observer, node 2 the one taking over.
    let s = run(initialState(2), [config(view(1)), quorum(4, [1, 2, 3, 4, 5]), versions([1, 2, 3, 4, 5], 1)]).state;
    s = run(s, [quorum(8, [1, 2, 3, 4]), versions([1, 2, 3, 4], 1)]).state;
    expect(s.persisted.claimedVersion).toEqual({ by: 4, version: 2 });
    s = run(s, [quorum(12, [1, 2, 3]), versions([1, 2, 3], 1)]).state;
    expect(s.masterId).toBe(3);
    expect(s.persisted.claimedVersion).toEqual({ by: 3, version: 3 });
    // The same master elected again (another membership change) claims nothing more.
    s = run(s, [quorum(16, [1, 2, 3]), versions([1, 2, 3], 1)]).state;
    expect(s.persisted.claimedVersion).toEqual({ by: 3, version: 3 });
    // (Quorum is the daemon's input: a 5-node cluster with 2 members is not quorate, but with
    // two nodes gone for good expected_votes would be lowered; the point here is the version.)
    const r = run(s, [quorum(20, [1, 2]), versions([1, 2], 1)]);
    expect(r.state.role).toBe('master');
    expect(raises(r.effects)[0]).toEqual({ type: 'raisePriority', nodeId: 2, prio: 51, configVersion: 4 });
    expect(r.explanation).toMatch(/config_version 4: skipping 2-3, which node 3 may have written/);
  });

  it('survives a daemon restart (persisted), and state files without it still load', () => {
    const s = node3AfterMasterFailure();
    const restarted = initialState(3, s.persisted);
    const r = run(restarted, [config(view(1)), quorum(12, [1, 2, 3]), versions([1, 2, 3], 1)]);
    expect(raises(r.effects)[0]).toMatchObject({ type: 'raisePriority', configVersion: 3 });
    const { claimedVersion: _, ...old } = emptyPersistedState();
    expect(initialState(3, old as PersistedState).persisted.claimedVersion).toBeNull();
  });
});

describe('same-version conflicts', () => {
  /** Node 3 master of ring [1,2,3] at version 3 (its own raise arrived). */
  function master3(): EngineState {
    const s = run(node3AfterMasterFailure(), [quorum(12, [1, 2, 3]), versions([1, 2, 3], 1)]).state;
    expect(s.role).toBe('master');
    return run(s, [config(view(3, { 3: 51 })), versions([3], 3), quorum(16, [1, 2, 3, 4]), versions([1, 2, 3, 4], 3)]).state;
  }

  it('the master raises again with the conflicting version + 1 (prio kept) and publishes it', () => {
    const r = run(master3(), [conflict(4, 3, 'slave', null)]);
    expect(r.state.role).toBe('master');
    expect(raises(r.effects)).toEqual([
      { type: 'raisePriority', nodeId: 3, prio: 51, configVersion: 4 },
      { type: 'publishConfig', configVersion: 4 },
    ]);
    expect(r.explanation).toMatch(/node\(s\) 4 hold another corosync.conf with config_version 3.*raised again as version 4/);
    // Further reports of the same conflict do not raise again; the new file ends it.
    const again = transition(r.state, conflict(2, 3, 'slave', null));
    expect(raises(again.effects)).toEqual([]);
    expect(transition(again.state, config(view(4, { 3: 51 }))).state.conflict).toBeNull();
  });

  it('of two masters, the one master longest keeps the role and raises (ties: lower nodeid); the other waits', () => {
    const m3 = master3();
    expect(m3.namedSince).toBe(12); // node 3 took over in ring 12
    // Node 4 returns as master since ring 16 (it elected itself from its own table on the heal).
    expect(raises(transition(m3, conflict(4, 3, 'master', null, 16)).effects)).toHaveLength(2);
    // Node 5 master since ring 8, or node 2 since ring 12 (the tie goes to the lower nodeid): node 3 waits.
    for (const [event, text] of [
      [conflict(5, 3, 'master', null, 8), /node 5 has been master since ring 8 \(here since 12\): it keeps the role and raises, waiting for its file/],
      [conflict(2, 3, 'master', null, 12), /node 2 has been master since ring 12 \(here since 12\)/],
    ] as const) {
      const r = transition(m3, event);
      expect(raises(r.effects)).toEqual([]);
      expect(r.explanation).toMatch(text);
      // A later report from a member without a master does not override it.
      expect(raises(transition(r.state, conflict(1, 3, 'slave', null)).effects)).toEqual([]);
    }
  });

  it("a report from the other master's slave waits for that master's own report; one from a masterless member does not", () => {
    const m3 = master3();
    const bySlave = transition(m3, conflict(1, 3, 'slave', 4));
    expect(raises(bySlave.effects)).toEqual([]);
    expect(bySlave.explanation).toMatch(/waiting for the report of their master\(s\) 4/);
    // Node 4's own hello: master since ring 16, later than node 3: node 3 raises.
    expect(raises(transition(bySlave.state, conflict(4, 3, 'master', null, 16)).effects)).toHaveLength(2);
    // Node 4's own hello, sent before it decided (no master yet): nobody else will raise.
    expect(raises(transition(bySlave.state, conflict(4, 3, 'slave', null)).effects)).toHaveLength(2);
  });

  it('a non-master never raises, and a conflict about another version is ignored', () => {
    const slave = node3AfterMasterFailure();
    const r = transition(slave, conflict(4, 1, 'master'));
    expect(raises(r.effects)).toEqual([]);
    expect(r.explanation).toMatch(/waiting for the master's next version/);
    const stale = transition(master3(), conflict(4, 2, 'slave'));
    expect(raises(stale.effects)).toEqual([]);
    expect(stale.state.conflict).toBeNull();
    expect(stale.explanation).toMatch(/ignored a config conflict at version 2 \(ours is 3\)/);
  });
});
