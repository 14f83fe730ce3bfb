// The engine's side of operating the cluster (issue 18, src/engine/operations.ts): commands
// decided and validated, the ordered hand-over, standby and maintenance. Pure: every input
// state is frozen, so a mutation throws.
import { describe, expect, it } from 'vitest';
import { HANDOVER_WAIT_MS } from '../../../src/engine/operations';
import { parseOperatorCommand } from '../../../src/engine/operator-command';
import { initialState, type ClusterView, type Effect, type EngineEvent, type EngineState, type OperatorCommand } from '../../../src/engine';
import { quorum, run, types, versions } from './engine-script';

const VIEW: ClusterView = {
  configVersion: 5,
  nodes: [2, 4, 8].map((nodeId, i) => ({ nodeId, ip: `198.18.0.${nodeId}`, prio: [99, 100, 98][i], replication: true })),
  takeoverDelayMs: 0,
};

const config = (view: ClusterView): EngineEvent => ({ type: 'config', now: 0, view });
const command = (c: OperatorCommand): EngineEvent => ({ type: 'command', now: 0, id: 'c1', command: c });
const withNode = (view: ClusterView, nodeId: number, change: Partial<ClusterView['nodes'][number]>, version = view.configVersion + 1): ClusterView => ({
  ...view,
  configVersion: version,
  nodes: view.nodes.map((n) => (n.nodeId === nodeId ? { ...n, ...change } : n)),
});

/** Node `local` in a settled 3-node cluster where node 4 is master. */
function settled(local: number): EngineState {
  return run(initialState(local), [config(VIEW), quorum(10, [2, 4, 8]), versions([2, 4, 8], 5)]).state;
}

describe('operator commands', () => {
  it('the master writes a switchover as the target prio above everyone, one config_version up', () => {
    const r = run(settled(4), [command({ kind: 'switchover', target: 2 })]);
    expect(r.effects[0]).toEqual([
      {
        type: 'editConfig',
        edits: [{ nodeId: 2, key: 'prio', value: '101' }],
        configVersion: 6,
        commandId: 'c1',
        summary: expect.stringContaining('switchover 2: config_version 6') as string,
        masterBefore: 4,
        masterAfter: 2,
      },
      { type: 'publishConfig', configVersion: 6 },
    ]);
    expect(r.state.role).toBe('master'); // nothing moves before the file does
    // A second command right after writes above the first.
    const r2 = run(r.state, [command({ kind: 'maintenance', on: true })]);
    expect(r2.effects[0][0]).toMatchObject({ type: 'editConfig', configVersion: 7 });
  });

  it('refuses with one line naming the node at fault', () => {
    const refused = (local: number, c: OperatorCommand): string => {
      const e = run(settled(local), [command(c)]).effects[0];
      expect(e).toHaveLength(1);
      expect(e[0]).toMatchObject({ type: 'commandResult', ok: false });
      return (e[0] as Extract<Effect, { type: 'commandResult' }>).message;
    };
    expect(refused(2, { kind: 'switchover', target: 8 })).toBe('node 2 does not write the configuration; node 4 (198.18.0.4) is the master: run it there');
    expect(refused(4, { kind: 'switchover', target: 9 })).toBe('node 9 is not in the nodelist');
    expect(refused(4, { kind: 'switchover', target: 4 })).toBe('node 4 is already the master');
    const cut = run(settled(4), [quorum(11, [2, 4])]).state;
    expect(run(cut, [command({ kind: 'switchover', target: 8 })]).effects[0][0]).toMatchObject({ message: 'node 8 is not a member of this quorate partition (members: 2,4)' });
    expect(refused(4, { kind: 'prio', nodeId: 7, prio: 3 })).toBe('node 7 is not in the nodelist');
    const standby = run(settled(4), [config(withNode(VIEW, 8, { standby: true }, 5))]).state;
    expect(run(standby, [command({ kind: 'switchover', target: 8 })]).effects[0][0]).toMatchObject({ message: 'node 8 cannot be master: standby' });
  });

  it('refuses a change that would leave no eligible member, and answers "nothing to do" without writing', () => {
    const one = run(initialState(4), [config({ ...VIEW, nodes: VIEW.nodes.map((n) => (n.nodeId === 4 ? n : { ...n, replication: false })) }), quorum(10, [2, 4, 8]), versions([2, 4, 8], 5)]).state;
    expect(run(one, [command({ kind: 'standby', nodeId: 4, on: true })]).effects[0][0]).toMatchObject({
      ok: false,
      message: 'standby 4 on would leave no node of the nodelist that can be master',
    });
    // Node 8 could be master, but it is not in this partition: refused too.
    const two = run(initialState(4), [config({ ...VIEW, nodes: VIEW.nodes.map((n) => (n.nodeId === 2 ? { ...n, replication: false } : n)) }), quorum(10, [2, 4]), versions([2, 4], 5)]).state;
    expect(run(two, [command({ kind: 'standby', nodeId: 4, on: true })]).effects[0][0]).toMatchObject({
      ok: false,
      message: 'standby 4 on would leave no eligible member among 2,4: the cluster would have no master',
    });
    expect(run(settled(4), [command({ kind: 'prio', nodeId: 8, prio: 98 })]).effects[0]).toEqual([
      { type: 'commandResult', commandId: 'c1', ok: true, message: 'node 8 already has prio 98: nothing written' },
    ]);
  });

  it('parses command words, naming the word at fault', () => {
    expect(parseOperatorCommand(['prio', 'set', '4', '120'])).toEqual({ kind: 'prio', nodeId: 4, prio: 120 });
    expect(parseOperatorCommand(['maintenance', 'off', '--force'])).toEqual({ kind: 'maintenance', on: false, force: true });
    expect(() => parseOperatorCommand(['standby', '0', 'on'])).toThrow('standby: node id 0 is out of range (1-4294967295)');
    expect(() => parseOperatorCommand(['switchover', '4', '5'])).toThrow("switchover: unexpected '5'");
  });
});

describe('node add and remove', () => {
  it('adds a node through the master; refuses a known id or address', () => {
    const r = run(settled(4), [command({ kind: 'nodeAdd', nodeId: 11, address: '198.18.0.11', prio: 10 })]);
    expect(r.effects[0][0]).toMatchObject({ type: 'editConfig', edits: [{ addNode: { nodeId: 11, address: '198.18.0.11', prio: 10 } }], configVersion: 6, masterAfter: 4 });
    expect(run(settled(4), [command({ kind: 'nodeAdd', nodeId: 8, address: '198.18.0.11' })]).effects[0][0]).toMatchObject({ ok: false, message: 'node 8 is already in the nodelist' });
    expect(run(settled(4), [command({ kind: 'nodeAdd', nodeId: 11, address: '198.18.0.8' })]).effects[0][0]).toMatchObject({ ok: false, message: "address 198.18.0.8 is already node 8's" });
  });

  it('removes a node that is down; refuses the master and a member, with the reason', () => {
    expect(run(settled(4), [command({ kind: 'nodeRemove', nodeId: 4 })]).effects[0][0]).toMatchObject({
      ok: false,
      message: 'node 4 is the master: switch over first (corolistener switchover NODEID)',
    });
    expect(run(settled(4), [command({ kind: 'nodeRemove', nodeId: 8 })]).effects[0][0]).toMatchObject({ ok: false, message: 'node 8 is still a member: stop its corosync and corolistener first' });
    const down = run(settled(4), [quorum(11, [2, 4]), versions([2, 4], 5), command({ kind: 'nodeRemove', nodeId: 8 })]);
    expect(down.effects[2][0]).toMatchObject({ type: 'editConfig', edits: [{ removeNode: 8 }], configVersion: 6 });
  });

  it('parses node add with its options, naming a bad address', () => {
    expect(parseOperatorCommand(['node', 'add', '11', '198.18.0.11', '--prio', '5', '--replication', 'off'])).toEqual({
      kind: 'nodeAdd',
      nodeId: 11,
      address: '198.18.0.11',
      prio: 5,
      replication: false,
    });
    expect(() => parseOperatorCommand(['node', 'add', '11', '198.18.0.300'])).toThrow("node add 11: expected an IPv4 or IPv6 address, got '198.18.0.300'");
    expect(parseOperatorCommand(['node', 'remove', '8'])).toEqual({ kind: 'nodeRemove', nodeId: 8 });
  });
});

describe('ordered hand-over', () => {
  const moved = withNode(VIEW, 2, { prio: 101 });

  it('the elected node waits for the old master to release, then takes over and says whom it took over from', () => {
    let s = run(settled(2), [{ type: 'takenOver', now: 0, from: 4 }]).state;
    const r = run(s, [config(moved), versions([4], 6)]);
    expect(r.state.role).toBe('slave');
    expect(r.state.masterId).toBe(2);
    expect(r.explanations.at(-1)).toContain('waiting for node 4 to release the master duties');
    expect(r.effects.flat()).toContainEqual({ type: 'startTimer', id: expect.any(String) as string, ms: HANDOVER_WAIT_MS });
    s = r.state;
    const done = run(s, [{ type: 'released', now: 1, from: 4 }]);
    expect(done.state.role).toBe('master');
    expect(types(done.effects[0])).toEqual(['removeRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService', 'announceTakeover']);
    expect(done.effects[0]).toContainEqual({ type: 'announceTakeover', from: 4 });
  });

  it('the old master steps down and announces its release after its teardown', () => {
    const r = run(settled(4), [config(moved), versions([2, 8], 6)]);
    expect(r.state.role).toBe('slave');
    expect(types(r.effects.at(-1)!)).toEqual(['removeClusterIp', 'stopService', 'removeServiceLock', 'removeRelocatedLock', 'announceRelease']);
  });

  it('without a release the elected node takes over after HANDOVER_WAIT_MS; a master gone from the ring is not waited for', () => {
    const waiting = run(settled(2), [{ type: 'takenOver', now: 0, from: 4 }, config(moved), versions([4], 6)]).state;
    const timer = waiting.takeoverTimer!;
    const r = run(waiting, [{ type: 'timerFired', now: HANDOVER_WAIT_MS, id: timer }]);
    expect(r.state.role).toBe('master');
    expect(r.explanations[0]).toContain(`node 4 did not release within ${HANDOVER_WAIT_MS} ms: taking over anyway`);
    const gone = run(settled(2), [{ type: 'takenOver', now: 0, from: 4 }, quorum(11, [2, 8]), versions([2, 8], 5)]);
    expect(gone.state.role).toBe('master');
  });
});

describe('standby and maintenance', () => {
  it('a node in standby is never elected', () => {
    const r = run(settled(8), [config(withNode(VIEW, 4, { standby: true })), versions([2, 4], 6)]);
    expect(r.state.masterId).toBe(2);
  });

  it('in maintenance a cut master keeps everything and nobody acts; off is refused while it is away, reconciles once it is back', () => {
    const on: ClusterView = { ...VIEW, configVersion: 6, maintenance: true };
    const master = run(settled(4), [config(on)]);
    expect(master.state.role).toBe('master');
    expect(master.explanations[0]).toContain('maintenance on: listeners take no action');
    const cut = run(master.state, [{ type: 'quorum', now: 20, quorate: false, ringId: { nodeId: 4, seq: 12 }, members: [4] }]);
    expect(cut.state.role).toBe('master');
    expect(types(cut.effects[0])).toEqual([]);
    expect(cut.explanations[0]).toMatch(/maintenance, would be suspended: .*not done: removeClusterIp, stopService, removeServiceLock, removeRelocatedLock, suspendVms/);
    const other = run(settled(2), [config(on), quorum(12, [2, 8]), versions([2, 8], 6)]);
    expect(other.state.role).toBe('slave');
    expect(other.effects.flat().filter((e) => !['persistState', 'publishConfig', 'readConfig'].includes(e.type))).toEqual([]);
    expect(other.explanations.at(-1)).toContain('not done: removeRelocatedLock, addClusterIp');
    // In the majority nobody is master: the lowest node holding the newest file writes; off is refused while 4 is away.
    expect(run(other.state, [command({ kind: 'maintenance', on: false })]).effects[0][0]).toMatchObject({ ok: false, message: expect.stringContaining('node(s) 4 not in this partition') as string });
    // Back together: off reconciles, the master stays.
    const back = run(master.state, [quorum(13, [2, 4, 8]), versions([2, 4, 8], 6), command({ kind: 'maintenance', on: false })]);
    expect(back.effects[2][0]).toMatchObject({ type: 'editConfig', configVersion: 7, edits: [{ section: 'corolistener', key: 'maintenance', value: 'off' }] });
    const off = run(back.state, [config({ ...VIEW, configVersion: 7 }), versions([2, 8], 7)]);
    expect(off.state.role).toBe('master');
    expect(off.explanations.at(-1)).toContain('still master');
  });
});
