// Issue 6 with real corosync: configuration distribution over the CPG group, Cfg reload, the
// config sync service and `corolistener config sync` before corosync starts. The distribution
// runs in agents inside the nodes (fixtures/config-agent.cjs: the built package's ConfigChannel
// and ConfigSyncServer, exactly what the daemon's ClusterConfigPublisher runs); the agent of
// the new master does what the engine's raisePriority + publishConfig effects make it do.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterKey } from '../../src/cluster/cluster-key';
import { CONFIG_OFFER, encodeConfigMessage, sha256Hex } from '../../src/cluster/config-messages';
import { encodeMessage } from '../../src/cluster/envelope';
import { ConfigAgent } from './config-agent';
import { describeIntegration, useCluster } from './support';

const CLI = path.resolve(__dirname, '../../dist/cli/main.js');
const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs = 20_000, diag: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n${diag()}`);
    await delay(100);
  }
}

describeIntegration('cluster-wide configuration update (issue 6)', () => {
  const cluster = useCluster({
    nodes: [
      { nodeId: 1, prio: 100 },
      { nodeId: 2, prio: 90 },
      { nodeId: 3, prio: 80 },
    ],
  });
  let keyDir: string;
  let keyFile: string;
  const agents = new Map<number, ConfigAgent>();

  beforeAll(() => {
    if (!fs.existsSync(CLI)) throw new Error(`${CLI} missing: run npm run build first`);
    keyDir = fs.mkdtempSync(path.join(os.tmpdir(), 'confsync-key-'));
    keyFile = path.join(keyDir, 'authkey');
    fs.writeFileSync(keyFile, randomBytes(128), { mode: 0o600 });
  });
  afterAll(async () => {
    await Promise.all([...agents.values()].map((a) => a.stop()));
    fs.rmSync(keyDir, { recursive: true, force: true });
  });

  const file = (n: number) => fs.readFileSync(cluster().confPath(n), 'utf8');
  const startAgent = async (n: number) => {
    const a = new ConfigAgent(cluster(), n, keyFile);
    agents.set(n, a);
    await a.ready();
    return a;
  };
  const agent = (n: number) => agents.get(n)!;
  const diag = () =>
    [...agents.entries()]
      .map(
        ([n, a]) =>
          `--- agent n${n}\n${a.logs
            .slice(-8)
            .map((l) => JSON.stringify(l))
            .join('\n')}\n${a.problems.join('\n')}`,
      )
      .join('\n');
  const cmapctlVersion = async (n: number) => {
    const r = await cluster().exec(n, ['corosync-cmapctl', '-g', 'totem.config_version'], { mountNs: false });
    return /= (\d+)\s*$/.exec(r.stdout)?.[1];
  };

  it("acceptance 1: after failover the new master's file (prio highest, config_version + 1) is byte-identical on both survivors, and cmap shows it", async () => {
    for (const n of [1, 2, 3]) await startAgent(n);
    await delay(500); // the agents' CPG joins and hellos settle
    const initial = file(1);
    await cluster().cut(1);
    await cluster().waitMembers(2, [2, 3]);
    expect(await agent(2).request('raise')).toBe(true);
    await agent(2).request('publish', { version: '2' });
    await waitUntil(
      "node 3 to hold node 2's file and both corosyncs to show config_version 2",
      async () => file(3) === file(2) && (await agent(2).cmapVersion()) === '2' && (await agent(3).cmapVersion()) === '2',
      20_000,
      diag,
    );
    expect(file(2)).toMatch(/config_version: 2\n/);
    expect(file(2)).toMatch(/nodeid: 2\n {4}name: n2\n {4}prio: 101\n/);
    expect(fs.readFileSync(cluster().confPath(3) + '.bak', 'utf8')).toBe(initial);
    expect(agent(2).logs.some((l) => l.msg === 'reloading corosync.conf cluster-wide')).toBe(true);
  });

  it('acceptance 2: the healed old master keeps running, receives the newest file; all three files identical', async () => {
    await cluster().heal(1);
    await cluster().waitMembers(1, [1, 2, 3]);
    await waitUntil('node 1 to hold the newest file with config_version 2 in cmap', async () => file(1) === file(2) && (await agent(1).cmapVersion()) === '2', 20_000, diag);
    expect(cluster().isRunning(1)).toBe(true);
    expect(new Set([file(1), file(2), file(3)]).size).toBe(1);
    expect(agent(1).logs.some((l) => l.log === 'installed' && l.version === '2')).toBe(true);
  });

  it('acceptance 3: a powered-off node fetches the newest file with `config sync` before corosync starts, then joins', async () => {
    await agent(3).kill();
    agents.delete(3);
    await cluster().kill(3);
    await cluster().waitMembers(1, [1, 2]);
    expect(await agent(1).request('raise')).toBe(true); // node 1 takes over: prio 102, version 3
    await agent(1).request('publish', { version: '3' });
    await waitUntil('config_version 3 on nodes 1 and 2', async () => file(2) === file(1) && (await agent(1).cmapVersion()) === '3' && (await agent(2).cmapVersion()) === '3', 20_000, diag);
    expect(file(3)).toMatch(/config_version: 2\n/);

    // Control: started with its old file, corosync leaves the cluster at once.
    await cluster()
      .start(3)
      .catch(() => undefined);
    await waitUntil('corosync on node 3 to exit over the config_version mismatch', () => !cluster().isRunning(3), 15_000);
    expect(fs.readFileSync(cluster().logPath(3), 'utf8')).toMatch(/Received config version \(3\) is different than my config version \(2\)! Exiting/);

    const sync = await cluster().exec(3, [process.execPath, CLI, 'config', 'sync', '--corosync-conf', cluster().confPath(3), '--key', keyFile], { mountNs: false });
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/^config sync: installed config_version 3 from 198\.18\.0\.[12] \(was 2; previous file kept as \.bak\)\n$/);
    expect(file(3)).toBe(file(1));

    await cluster().start(3);
    await cluster().waitMembers(3, [1, 2, 3]);
    await delay(3000); // corosync would terminate a node with another config_version right after joining
    expect(cluster().isRunning(3)).toBe(true);
    expect(await cmapctlVersion(3)).toBe('3');
    const again = await cluster().exec(3, [process.execPath, CLI, 'config', 'sync', '--corosync-conf', cluster().confPath(3), '--key', keyFile], { mountNs: false });
    expect(again.stdout).toMatch(/is up to date \(config_version 3\)/);
  });

  it('acceptance 4: forged or malformed messages are rejected, logged and change nothing', async () => {
    const sender = await startAgent(3);
    await delay(500);
    const before = [1, 2, 3].map(file);
    const forged = before[0]!.replace(/config_version: \d+/, 'config_version: 99').replace(/prio: 80/, 'prio: 999');
    const offer = (content: string, version: bigint) => ({ version, sha256: sha256Hex(content), content, from: 3, role: 'master' as const, master: 3, since: null });
    const older = before[0]!.replace(/config_version: \d+/, 'config_version: 1');
    const key = ClusterKey.fromSecret(fs.readFileSync(keyFile), keyFile);
    const messages: Array<[string, Buffer, string]> = [
      ['bad signature', encodeConfigMessage({ type: CONFIG_OFFER, body: offer(forged, 99n) }, ClusterKey.fromSecret(randomBytes(64))), 'bad-mac'],
      ['wrong schema', encodeMessage(CONFIG_OFFER, { ...offer(forged, 99n), version: 99, mac: '0'.repeat(64) }), 'bad-body'],
      ['unknown protocol version', Buffer.from(JSON.stringify({ proto: 'corolistener', v: 9, type: CONFIG_OFFER, body: {} })), 'unknown-version'],
      ['oversized', Buffer.alloc(300 * 1024, 0x20), 'too-large'],
    ];
    for (const [, data] of messages) await sender.sendRaw(data);
    // Correctly signed, but older than every member's file.
    await sender.sendRaw(encodeConfigMessage({ type: CONFIG_OFFER, body: offer(older, 1n) }, key));
    for (const n of [1, 2]) {
      await waitUntil(
        `node ${n} to log every rejection`,
        () => {
          const codes = agent(n)
            .logs.filter((l) => l.msg === 'cluster message rejected' && l.from === 3)
            .map((l) => l.code);
          return messages.every(([, , code]) => codes.includes(code)) && agent(n).logs.some((l) => l.msg === 'config offer ignored: older than the installed file' && l.from === 3);
        },
        15_000,
        diag,
      );
    }
    expect([1, 2, 3].map(file)).toEqual(before);
    for (const n of [1, 2]) expect(await agent(n).cmapVersion()).toBe('3');
  });
});
