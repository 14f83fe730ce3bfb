// The sandbox's client namespace: a machine on the cluster's LAN that reaches the nodes and
// whose neighbour table shows which node answered; removed with the cluster.
import * as fs from 'node:fs';
import { expect, it } from 'vitest';
import { holdersOf, ipv4On, macOf } from '../../src/sandbox';
import { describeIntegration, useCluster } from './support';

describeIntegration('sandbox client namespace', () => {
  const cluster = useCluster({ nodes: [{ nodeId: 2 }, { nodeId: 4 }] });

  it('reaches a node; its neighbour entry holds that node vmbr0 MAC; destroy removes it', async () => {
    const c = cluster();
    expect(() => c.client({ name: 'n2' })).toThrow(/node's name/);
    expect(() => c.client({ address: '198.18.0.2' })).toThrow(/node n2's/);
    const client = await c.addClient();
    expect(client.address).toBe('198.18.0.250');
    expect(fs.existsSync(client.netnsPath)).toBe(true);
    expect(await client.neighbour('198.18.0.4')).toBeNull();
    expect((await client.ping('198.18.0.4')).ok).toBe(true);
    expect((await client.neighbour('198.18.0.4'))?.lladdr).toBe(await macOf(c, 'n4'));
    expect(await ipv4On(c, 'n4')).toEqual(['198.18.0.4/24']);
    expect(await holdersOf(c, '198.18.0.2')).toEqual(['n2']);
    // Cut off, the node no longer answers the client.
    await c.cut('n4');
    expect((await client.ping('198.18.0.4')).ok).toBe(false);
    await c.heal('n4');
    await c.destroy();
    expect(fs.existsSync(client.netnsPath)).toBe(false);
  });
});
