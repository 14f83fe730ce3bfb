// The fault monitor's violation logic on synthetic samples: each invariant is caught when
// broken, and the legitimate states around a fault (a failover across a partition, a cut
// master still holding the IP on its side, a quorumless minority, a dead listener) are not
// reported.
import { describe, expect, it } from 'vitest';
import { type ClusterSample, type CommandCall, type ListenerView, type NodeSample, partitionsOf, resumeViolations, sampleViolations, settledProblems } from '../../../src/sandbox/monitor-checks';

const ID: Record<string, number> = { n1: 1, n2: 2, n3: 3, n4: 4, n5: 5 };

function view(role: ListenerView['role'], members: number[], masterNodeId: number | null, quorate = true): ListenerView {
  return { role, quorate, members, masterNodeId };
}

function node(name: string, listener: ListenerView | null, extra: Partial<NodeSample> = {}): NodeSample {
  return { name, nodeId: ID[name]!, corosyncRunning: true, listener, holdsClusterIp: false, confSha: 'a', ...extra };
}

function sample(network: string[][], nodes: NodeSample[]): ClusterSample {
  return { at: 1000, network, nodes };
}

/** A settled 3-node cluster with n1 master. */
function healthy(): ClusterSample {
  const all = [1, 2, 3];
  return sample([['n1', 'n2', 'n3']], [node('n1', view('master', all, 1), { holdsClusterIp: true }), node('n2', view('slave', all, 1)), node('n3', view('slave', all, 1))]);
}

const invariants = (s: ClusterSample) => sampleViolations(s).map((v) => v.invariant);
const settle = (s: ClusterSample, listenerDown: string[] = []) => settledProblems(s, { quorumVotes: 2, listenerDown: new Set(listenerDown) });

describe('instant invariants', () => {
  it('a healthy cluster has none', () => {
    expect(sampleViolations(healthy())).toEqual([]);
  });

  it('two cluster-IP holders that reach each other are a violation; on both sides of a partition they are not', () => {
    const s = healthy();
    s.nodes[2]!.holdsClusterIp = true;
    expect(sampleViolations(s)).toEqual([{ at: 1000, invariant: 'one-ip-holder', detail: 'n1, n3 hold the cluster IP and reach each other' }]);
    s.network = [['n1'], ['n2', 'n3']];
    expect(invariants(s)).toEqual([]);
  });

  it('two masters of the same quorate membership among reachable nodes are a violation', () => {
    const s = healthy();
    s.nodes[1]!.listener = view('master', [1, 2, 3], 2);
    expect(sampleViolations(s)).toEqual([{ at: 1000, invariant: 'one-master', detail: 'n1, n2 are all master of the quorate membership [1,2,3]' }]);
  });

  it('an old master still reporting an older membership while the new one takes over is not (different views)', () => {
    const s = healthy();
    // n1 was cut, has not noticed yet; n2 and n3 already formed [2,3] with n2 as master.
    s.network = [['n1'], ['n2', 'n3']];
    s.nodes[1]!.listener = view('master', [2, 3], 2);
    s.nodes[2]!.listener = view('slave', [2, 3], 2);
    s.nodes[1]!.holdsClusterIp = true;
    expect(invariants(s)).toEqual([]);
  });

  it('a master that is not quorate does not count as a second master', () => {
    const s = healthy();
    s.nodes[1]!.listener = view('master', [1, 2, 3], 2, false);
    expect(invariants(s)).toEqual([]);
  });
});

describe('partitions', () => {
  it('nodes without corosync are alone even when their link is up', () => {
    const s = healthy();
    s.nodes[0]!.corosyncRunning = false;
    expect(partitionsOf(s).map((p) => p.map((n) => n.name))).toEqual([['n2', 'n3'], ['n1']]);
  });
});

describe('settled state', () => {
  it('a healthy cluster is settled', () => {
    expect(settle(healthy())).toEqual([]);
  });

  it('a quorate partition without agreed master, with two masters, or with the IP elsewhere is not settled', () => {
    const noMaster = healthy();
    noMaster.nodes[2]!.listener = view('slave', [1, 2, 3], 2);
    expect(settle(noMaster).map((p) => p.invariant)).toEqual(['one-master']);

    const twoMasters = healthy();
    twoMasters.nodes[1]!.listener = view('master', [1, 2, 3], 1);
    expect(settle(twoMasters)).toEqual([{ invariant: 'one-master', detail: 'partition [n1, n2, n3]: master is n1 but n2 is master' }]);

    const ipElsewhere = healthy();
    ipElsewhere.nodes[0]!.holdsClusterIp = false;
    ipElsewhere.nodes[2]!.holdsClusterIp = true;
    expect(settle(ipElsewhere)).toEqual([{ invariant: 'one-ip-holder', detail: 'partition [n1, n2, n3]: master n1, cluster IP on [n3]' }]);
  });

  it('different corosync.conf files among members are a same-config problem', () => {
    const s = healthy();
    s.nodes[1]!.confSha = 'b';
    expect(settle(s)).toEqual([{ invariant: 'same-config', detail: 'partition [n1, n2, n3]: corosync.conf differs between members' }]);
  });

  it('a listener that has not caught up with the membership yet is "not settled", not a violation kind of its own', () => {
    const s = healthy();
    s.network = [['n1'], ['n2', 'n3']];
    expect(settle(s).map((p) => p.invariant)).toContain('not-settled');
  });

  it('after a failover across a partition: the majority has its master, the minority is suspended without the IP', () => {
    const s = sample([['n1'], ['n2', 'n3']], [node('n1', view('suspended', [1], null, false)), node('n2', view('master', [2, 3], 2), { holdsClusterIp: true }), node('n3', view('slave', [2, 3], 2))]);
    expect(settle(s)).toEqual([]);
    s.nodes[0]!.holdsClusterIp = true;
    expect(settle(s)).toEqual([{ invariant: 'one-ip-holder', detail: 'partition [n1] has no quorum but n1 holds the cluster IP' }]);
    s.nodes[0]!.holdsClusterIp = false;
    s.nodes[0]!.listener = view('master', [1], 1, false);
    expect(settle(s)).toEqual([{ invariant: 'not-settled', detail: 'partition [n1] has no quorum but n1 is master' }]);
  });

  it('1|1|1: everyone suspended is settled', () => {
    const s = sample(
      [['n1'], ['n2'], ['n3']],
      ['n1', 'n2', 'n3'].map((n) => node(n, view('suspended', [ID[n]!], null, false))),
    );
    expect(settle(s)).toEqual([]);
  });

  it('a listener down on purpose: its peers name it master and it keeps the IP (no failover)', () => {
    const s = healthy();
    s.nodes[0]!.listener = null;
    expect(settle(s).map((p) => p.invariant)).toEqual(['not-settled']);
    expect(settle(s, ['n1'])).toEqual([]);
  });
});

describe('VMs resumed after a restore elsewhere', () => {
  const call = (node: string, name: string, ms: number, failedNodes: number[] = []): CommandCall => ({ node, nodeId: ID[node]!, name, ms, failedNodes });

  it('a minority node that resumes after the new master started with it among the failed nodes is a violation', () => {
    const calls = [call('n1', 'VmSuspendCommand', 100), call('n2', 'ServiceStartCommand', 200, [1]), call('n1', 'VmResumeCommand', 300)];
    expect(resumeViolations(calls)).toEqual([
      {
        at: 300,
        invariant: 'no-resume-after-restore',
        detail: 'n1 resumed its VMs after n2 ran ServiceStartCommand for failed nodes [1]',
      },
    ]);
  });

  it('1|1|1 then heal: everyone suspended and resumes its own VMs; nobody restored them', () => {
    const calls = ['n1', 'n2', 'n3'].flatMap((n, i) => [call(n, 'VmSuspendCommand', 100 + i), call(n, 'VmResumeCommand', 500 + i)]);
    calls.push(call('n1', 'ServiceStartCommand', 600, []));
    expect(resumeViolations(calls)).toEqual([]);
  });

  it("a restore before the node's latest suspend does not forbid resuming after that suspend", () => {
    const calls = [call('n2', 'ServiceStartCommand', 50, [1]), call('n1', 'VmSuspendCommand', 100), call('n1', 'VmResumeCommand', 300)];
    expect(resumeViolations(calls)).toEqual([]);
  });

  it('a restore of other nodes does not concern this one', () => {
    const calls = [call('n1', 'VmSuspendCommand', 100), call('n2', 'NodeFailedCommand', 200, [3]), call('n1', 'VmResumeCommand', 300)];
    expect(resumeViolations(calls)).toEqual([]);
  });
});
