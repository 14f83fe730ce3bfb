import { describe, expect, it } from 'vitest';
import { parsePingLine, Pinger } from '../../../src/cli/demo/pinger';
import { addressChanges, describeCall, describeLogLine, planDoneInLog } from '../../../src/cli/demo/watch';
import type { SandboxClient } from '../../../src/sandbox';

describe('demo: ping output', () => {
  it('reads replies and "no answer yet" lines of ping -O, ignores the rest', () => {
    expect(parsePingLine('64 bytes from 198.18.0.100: icmp_seq=12 ttl=64 time=0.051 ms', 5)).toEqual({ at: 5, seq: 12, reply: true });
    expect(parsePingLine('no answer yet for icmp_seq=13', 6)).toEqual({ at: 6, seq: 13, reply: false });
    expect(parsePingLine('PING 198.18.0.100 (198.18.0.100) 56(84) bytes of data.', 1)).toBeNull();
    expect(parsePingLine('From 198.18.0.250 icmp_seq=3 Destination Host Unreachable', 1)).toBeNull();
  });

  it('finds the last reply before a cut and the first after it, counting the unanswered in between', () => {
    const p = new Pinger({} as SandboxClient, '198.18.0.100');
    const seq = [
      [100, true],
      [300, true],
      [500, false],
      [700, false],
      [900, false],
      [1100, true],
      [1300, true],
    ] as const;
    seq.forEach(([at, reply], i) => p.events.push({ at, seq: i + 1, reply }));
    expect(p.lastReplyBefore(400)?.at).toBe(300);
    expect(p.firstReplyAfter(400)).toEqual({ reply: { at: 1100, seq: 6, reply: true }, lost: 3 });
    expect(p.firstReplyAfter(1300)).toBeUndefined();
  });
});

describe('demo: narrating a recorded command', () => {
  it('names the node and the command, with the failed nodes when there are any', () => {
    const call = { name: 'ServiceStartCommand' as const, at: '', ms: 0, pid: 1, args: [], env: { COROLISTENER_FAILED_NODES: '4' } };
    expect(describeCall('n2', call)).toBe('n2 ran ServiceStartCommand (COROLISTENER_FAILED_NODES=4)');
    expect(describeCall('n4', { ...call, name: 'ServiceStopCommand', env: { COROLISTENER_FAILED_NODES: '' } })).toBe('n4 ran ServiceStopCommand');
  });
});

describe('demo: narrating the daemon log', () => {
  const time = '2026-01-01T00:00:01.500Z';
  it('tells a role change with the explanation, once, and a failed step; nothing else', () => {
    const decision = { event: 'decision', time, role: 'master', explanation: 'master: takeover; failed node(s): 4' };
    expect(describeLogLine('n2', decision, 'slave')).toEqual({ at: Date.parse(time), text: 'n2 becomes master: master: takeover; failed node(s): 4' });
    expect(describeLogLine('n2', decision, 'master')).toBeNull();
    expect(describeLogLine('n2', { ...decision, role: 'unknown' }, undefined)).toBeNull();
    expect(describeLogLine('n4', { event: 'step', time, effect: 'addClusterIp', outcome: 'failed', error: 'in use' }, 'master')).toEqual({
      at: Date.parse(time),
      text: 'n4: addClusterIp failed: in use',
    });
    expect(describeLogLine('n4', { event: 'step', time, effect: 'addClusterIp', outcome: 'ok' }, 'master')).toBeNull();
    expect(describeLogLine('n4', { event: 'decision', role: 'master' }, 'slave')).toBeNull();
  });
});

describe('demo: timing the cluster IP by ip monitor', () => {
  it('narrates each monitor event at its own time, skipping repeats; the poll says nothing it agrees with', () => {
    const events = [
      { at: 1_050, added: false },
      { at: 1_060, added: false },
    ];
    expect(addressChanges(true, events, 1_060, { held: false, at: 1_100 })).toEqual([{ at: 1_050, held: false }]);
    expect(
      addressChanges(
        false,
        [
          { at: 500, added: true },
          { at: 900, added: false },
        ],
        900,
        { held: false, at: 1_000 },
      ),
    ).toEqual([
      { at: 500, held: true },
      { at: 900, held: false },
    ]);
  });

  it('falls back to the poll for a change the monitor missed (before it subscribed), at the poll time', () => {
    expect(addressChanges(false, [], undefined, { held: true, at: 700 })).toEqual([{ at: 700, held: true }]);
    expect(addressChanges(false, [], 300, { held: true, at: 700 })).toEqual([{ at: 700, held: true }]);
  });

  it('trusts an event newer than the poll: the poll read the address before it changed', () => {
    expect(addressChanges(false, [{ at: 720, added: true }], 720, { held: false, at: 700 })).toEqual([{ at: 720, held: true }]);
    expect(addressChanges(true, [], 720, { held: false, at: 700 })).toEqual([]);
  });
});

describe("demo: the engine's explanations and the VM verdict", () => {
  const time = '2026-01-01T00:00:01.500Z';
  it("tells a role change with the engine's explanation", () => {
    const line = { event: 'decision', time, role: 'slave', explanation: 'slave (master 4): make sure no master duties are held' };
    expect(describeLogLine('n2', line, undefined)?.text).toBe('n2 becomes a slave: slave (master 4): make sure no master duties are held');
  });

  it('tells the VM verdict once the failure records are in, and VMs restored elsewhere', () => {
    const verdict = { event: 'decision', time, role: 'slave', explanation: 'slave: this node was reported failed at ring 17: suspended copies discarded' };
    expect(describeLogLine('n4', verdict, 'slave', false)).toBeNull();
    expect(describeLogLine('n4', verdict, 'slave', true)?.text).toBe(`n4: the other members' failure records are in: ${verdict.explanation}`);
    expect(describeLogLine('n4', { event: 'vms-discarded', time, vms: ['vm4a', 'vm4b'] }, 'slave')?.text).toBe(
      'n4: its suspended VMs (vm4a, vm4b) were restored on another node meanwhile: they stay suspended here, VMmanager discards these copies',
    );
  });

  it("a phase ends when each listener's log has a step for every effect of its last decision", () => {
    const decision = { event: 'decision', effects: ['persistState', 'stopService', 'persistState'] };
    expect(planDoneInLog([])).toBe(false);
    expect(planDoneInLog([decision, { event: 'step', effect: 'persistState' }, { event: 'step', effect: 'stopService' }])).toBe(false);
    expect(planDoneInLog([decision, { event: 'step', effect: 'persistState' }, { event: 'step', effect: 'stopService' }, { event: 'step', effect: 'persistState', outcome: 'failed' }])).toBe(true);
    // Effects carried out at once (inside the decision) log no step: nothing is owed for them.
    expect(planDoneInLog([{ event: 'decision', effects: ['readConfig'] }])).toBe(true);
    // Steps of an earlier decision do not count for the last one.
    expect(
      planDoneInLog([
        { event: 'step', effect: 'stopService' },
        { event: 'decision', effects: ['stopService'] },
      ]),
    ).toBe(false);
  });
});
