// The sandbox's client namespace: a machine on the cluster's LAN that reaches the nodes and
// whose neighbour table shows which node answered; removed with the cluster. And keepVisible:
// a host directory under /tmp stays visible in the nodes (a checkout in /tmp must run there).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
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

describeIntegration('sandbox keepVisible', () => {
  const shared = path.join(os.tmpdir(), `sandbox-keep-${process.pid}`);
  // Registered before useCluster's, so the directory exists when the cluster is built.
  beforeAll(() => {
    fs.mkdirSync(shared, { recursive: true });
    fs.writeFileSync(path.join(shared, 'file'), 'from the host\n');
  });
  afterAll(() => fs.rmSync(shared, { recursive: true, force: true }));
  const cluster = useCluster({ nodes: 1, keepVisible: [shared] });

  it('a host directory under /tmp is seen in the node, whose /tmp stays private otherwise', async () => {
    const c = cluster();
    try {
      expect((await c.exec('n1', ['cat', path.join(shared, 'file')])).stdout).toBe('from the host\n');
      fs.writeFileSync(c.hostPath('n1', '/tmp/node-only'), 'x');
      expect(fs.existsSync('/tmp/node-only')).toBe(false);
      expect((await c.exec('n1', ['ls', '/tmp'])).stdout.split('\n')).toContain(path.basename(shared));
    } finally {
      await c.destroy();
      // The host directory is untouched by the teardown.
      expect(fs.readFileSync(path.join(shared, 'file'), 'utf8')).toBe('from the host\n');
    }
  });
});
