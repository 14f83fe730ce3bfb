import { describe, expect, it } from 'vitest';
import { clusterIdOfNetns, confPathOf, hostPathOf, newClusterId, resolveCluster, SandboxSpecError } from '../../../src/sandbox/spec';

describe('sandbox spec: names and validation', () => {
  it('defaults to 3 nodes n1..n3 on 198.18.0.X with VMmanager settings', () => {
    const c = resolveCluster({}, 'abc123', '/r');
    expect(c).toMatchObject({ id: 'abc123', name: 'abc123', tokenMs: 1000, configVersion: 1, clusterName: 'VMmanager', persistent: false });
    expect(c.hubNetns).toBe('colsb-abc123-hub');
    expect(c.dir).toBe('/r/abc123');
    expect(c.nodes.map((n) => [n.name, n.nodeId, n.address, n.prio, n.replication, n.netns, n.hubVeth])).toEqual([
      ['n1', 1, '198.18.0.1', 100, true, 'colsb-abc123-n1', 'veth-n1'],
      ['n2', 2, '198.18.0.2', 100, true, 'colsb-abc123-n2', 'veth-n2'],
      ['n3', 3, '198.18.0.3', 100, true, 'colsb-abc123-n3', 'veth-n3'],
    ]);
    expect(c.nodes[0]!.mountNsFile).toBe('/r/abc123/ns/n1.mnt');
  });

  it('expresses nodeids 2/4/8 with prio 99/100/98 and replication off', () => {
    const c = resolveCluster(
      {
        nodes: [
          { nodeId: 2, prio: 99 },
          { nodeId: 4, prio: 100 },
          { nodeId: 8, prio: 98, replication: false },
        ],
      },
      'abc123',
    );
    expect(c.nodes.map((n) => `${n.name}:${n.prio}:${n.replication}:${n.address}`)).toEqual(['n2:99:true:198.18.0.2', 'n4:100:true:198.18.0.4', 'n8:98:false:198.18.0.8']);
  });

  it('keeps every interface name within 15 characters, even for 16 nodes with long names', () => {
    const c = resolveCluster({ nodes: Array.from({ length: 16 }, (_, i) => ({ nodeId: 300 + i, name: `node${i}abcd`.slice(0, 10), address: `198.18.0.${i + 1}` })) }, 'abc123');
    for (const n of c.nodes) expect(n.hubVeth.length).toBeLessThanOrEqual(15);
  });

  it('makes ids that are 6 hex digits and distinct', () => {
    const ids = new Set(Array.from({ length: 200 }, newClusterId));
    expect(ids.size).toBeGreaterThan(195);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{6}$/);
  });

  it('recognises its own netns names only', () => {
    expect(clusterIdOfNetns('colsb-abc123-n2')).toBe('abc123');
    expect(clusterIdOfNetns('colsb-abc123-hub')).toBe('abc123');
    expect(clusterIdOfNetns('natdev')).toBeNull();
    expect(clusterIdOfNetns('colsb-xyz-n1')).toBeNull();
  });

  it.each([
    [{ nodes: 0 }, /nodes: must be an integer in 1\.\.16/],
    [{ nodes: 17 }, /nodes: must be an integer in 1\.\.16/],
    [{ nodes: [] }, /nodes: must be 1\.\.16 node specs/],
    [{ nodes: [{ nodeId: 1 }, { nodeId: 1, name: 'x' }] }, /nodes\[\]\.nodeId: duplicate 1/],
    [
      {
        nodes: [
          { nodeId: 1, name: 'a' },
          { nodeId: 2, name: 'a' },
        ],
      },
      /nodes\[\]\.name: duplicate "a"/,
    ],
    [{ nodes: [{ nodeId: 0 }] }, /nodes\[0\]\.nodeId: must be an integer/],
    [{ nodes: [{ nodeId: 1, name: 'Bad' }] }, /nodes\[0\]\.name: must match/],
    [{ nodes: [{ nodeId: 1, name: 'hub' }] }, /nodes\[0\]\.name/],
    [{ nodes: [{ nodeId: 1, name: 'elevenchars' }] }, /nodes\[0\]\.name/],
    [{ nodes: [{ nodeId: 1, prio: -1 }] }, /nodes\[0\]\.prio/],
    [{ nodes: [{ nodeId: 300 }] }, /nodes\[0\]: nodeId 300 > 254: give an explicit address/],
    [{ nodes: [{ nodeId: 1, address: '10.0.0.1' }] }, /nodes\[0\]\.address: must be a host address in 198\.18\.0\.0\/24/],
    [{ nodes: [{ nodeId: 1, address: '198.18.0.5' }, { nodeId: 5 }] }, /nodes\[\]\.address: duplicate "198\.18\.0\.5"/],
    [{ subnet: '198.18' }, /subnet: must be three octets/],
    [{ tokenMs: 10 }, /tokenMs: must be an integer in 100\.\./],
    [{ tokenCoefficientMs: -1 }, /tokenCoefficientMs: must be an integer in 0\.\./],
    [{ knetPing: { intervalMs: 100, timeoutMs: 100 } }, /knetPing\.timeoutMs: must be longer than knetPing\.intervalMs/],
    [{ name: 'Bad Name' }, /name: must match/],
    [{ clusterName: 'a b' }, /clusterName/],
  ])('rejects %j naming the field', (options, message) => {
    expect(() => resolveCluster(options as never, 'abc123')).toThrow(SandboxSpecError);
    expect(() => resolveCluster(options as never, 'abc123')).toThrow(message);
  });

  it("maps a node's inside paths to its host directories", () => {
    const n = resolveCluster({}, 'abc123', '/r').nodes[1]!;
    expect(confPathOf(n)).toBe('/r/abc123/nodes/n2/etc/corosync.conf');
    expect(hostPathOf(n, '/run/corosync.pid')).toBe('/r/abc123/nodes/n2/run/corosync.pid');
    expect(hostPathOf(n, '/var/lib/corosync/ringid_2')).toBe('/r/abc123/nodes/n2/lib/ringid_2');
    expect(hostPathOf(n, '/tmp/.lock.vmmgr.service')).toBe('/r/abc123/nodes/n2/tmp/.lock.vmmgr.service');
    expect(hostPathOf(n, '/tmp')).toBe('/r/abc123/nodes/n2/tmp');
    expect(() => hostPathOf(n, '/etc/hosts')).toThrow(/not in a private directory of node n2/);
    expect(() => hostPathOf(n, '/tmpfoo')).toThrow(/not in a private directory/);
  });
});
