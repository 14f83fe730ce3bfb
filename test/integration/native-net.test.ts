// The cluster IP through the real addon (native/net.cc, native/arp.cc via src/actions/native-net.ts)
// in a sandbox cluster's node namespaces: no `ip` or `arping` process. Each operation runs in a
// Node process started inside the node (fixtures/native-net-agent.cjs), since the addon acts in
// the network namespace of the process that calls it. corosync is not started: only the nodes'
// network (hub bridge, vmbr0 in each node, a client) is needed.
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createCluster, holdersOf, macOf, type SandboxClient, type SandboxCluster } from '../../src/sandbox';
import { describeIntegration } from './support';

const AGENT = path.join(__dirname, 'fixtures', 'native-net-agent.cjs');
const CLUSTER_IP = '198.18.0.100';

interface AgentReply {
  ok: boolean;
  result?: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON from the child
  error?: { name: string; message: string; code?: string; holders?: string[] };
}

describeIntegration('cluster IP through the addon (rtnetlink, ARP probe, gratuitous ARP)', () => {
  let cluster: SandboxCluster;
  let client: SandboxClient;

  async function agent(node: string, op: Record<string, unknown>): Promise<AgentReply> {
    const r = await cluster.exec(node, [process.execPath, AGENT, JSON.stringify({ dev: 'vmbr0', ip: CLUSTER_IP, prefix: 24, ...op })], { mountNs: false, timeoutMs: 60_000 });
    const line = r.stdout.trim().split('\n').at(-1) ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`agent in ${node} (${JSON.stringify(op)}): exit ${r.code}\n${r.stdout}${r.stderr}`);
    return JSON.parse(line) as AgentReply;
  }

  beforeAll(async () => {
    cluster = await createCluster({ nodes: 2, start: false, waitFormed: false });
    client = await cluster.addClient();
  }, 120_000);

  afterAll(async () => {
    await cluster?.destroy();
  }, 120_000);

  it('node 1 takes the address (verified, announced); the client reaches it and its neighbour entry names node 1', async () => {
    const r = await agent('n1', { op: 'take' });
    expect(r).toMatchObject({ ok: true, result: { changed: true, status: { present: true, prefixLength: 24 } } });
    expect(await holdersOf(cluster, CLUSTER_IP)).toEqual(['n1']);
    const ping = await client.exec(['ping', '-c', '1', '-W', '2', CLUSTER_IP], { timeoutMs: 10_000 });
    expect(ping.code).toBe(0);
    expect((await client.neighbour(CLUSTER_IP))?.lladdr).toBe(await macOf(cluster, 'n1'));
    // Repeating changes nothing.
    expect(await agent('n1', { op: 'take' })).toMatchObject({ ok: true, result: { changed: false } });
  });

  it("the probe finds the live holder: node 2's take is refused naming node 1's MAC, and nothing is added", async () => {
    // A generous window: the refusal is what is tested here (an answer ends the window at once);
    // how long the default window must be is measured by `npm run bench -- arp`.
    const r = await agent('n2', { op: 'take', windowMs: 900 });
    expect(r.ok).toBe(false);
    expect(r.error).toMatchObject({ name: 'DuplicateAddressError', holders: [await macOf(cluster, 'n1')] });
    expect(await holdersOf(cluster, CLUSTER_IP)).toEqual(['n1']);
    // The raw probe, a few times: the holder answers each one (well inside a 10 ms window even loaded).
    const probes = await agent('n2', { op: 'probe', windowMs: 1000, count: 5 });
    expect(probes.ok).toBe(true);
    for (const p of probes.result as Array<{ holders: string[] }>) expect(p.holders).toEqual([await macOf(cluster, 'n1')]);
  });

  it('moved: node 1 drops it (verified), node 2 takes it, and the gratuitous ARPs move the client without it pinging', async () => {
    expect(await agent('n1', { op: 'drop' })).toMatchObject({ ok: true, result: { changed: true, status: { present: false } } });
    expect(await agent('n1', { op: 'drop' })).toMatchObject({ ok: true, result: { changed: false } });
    // A free address: the probe hears nothing.
    const probes = await agent('n2', { op: 'probe', windowMs: 10, count: 3 });
    expect((probes.result as Array<{ holders: string[] }>).map((p) => p.holders)).toEqual([[], [], []]);
    expect(await agent('n2', { op: 'take' })).toMatchObject({ ok: true, result: { changed: true, status: { present: true } } });
    expect(await holdersOf(cluster, CLUSTER_IP)).toEqual(['n2']);
    expect((await client.neighbour(CLUSTER_IP))?.lladdr).toBe(await macOf(cluster, 'n2'));
  });

  it('a bridge without carrier: the probe is an ENETDOWN error naming the device, never "free", and nothing is added', async () => {
    // vmbr0's only port down: the bridge loses its carrier, and a probe sent on it would be
    // dropped by the kernel with sendto still succeeding.
    await cluster.exec('n2', ['ip', 'link', 'set', 'eth0', 'down'], { mountNs: false });
    try {
      const probe = await agent('n2', { op: 'probe', windowMs: 10 });
      expect(probe).toMatchObject({ ok: false, error: { code: 'ENETDOWN' } });
      expect(probe.error?.message).toMatch(/ARP probe on vmbr0: the link does not carry frames \(not LOWER_UP/);
      // n2 holds the address since the test before: it goes (no carrier needed), and cannot come back.
      expect(await agent('n2', { op: 'drop' })).toMatchObject({ ok: true, result: { status: { present: false } } });
      const take = await agent('n2', { op: 'take' });
      expect(take).toMatchObject({ ok: false, error: { code: 'ENETDOWN' } });
      expect((await agent('n2', { op: 'status' })).result).toMatchObject({ present: false });
    } finally {
      await cluster.exec('n2', ['ip', 'link', 'set', 'eth0', 'up'], { mountNs: false });
    }
  });

  it('a device that does not exist is an error with its code, not "free"', async () => {
    const r = await agent('n2', { op: 'probe', dev: 'nodev0', windowMs: 10 });
    expect(r).toMatchObject({ ok: false, error: { code: 'ENODEV' } });
  });
});
