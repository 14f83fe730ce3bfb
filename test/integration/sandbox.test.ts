// The sandbox against real corosync: membership, partitions, crashes, parallel clusters,
// persistence across processes and complete teardown. Durations are printed ([sandbox] lines)
// for the record; they are not asserted (speed belongs in benchmarks).
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { cleanupStale, createCluster, listClusters, openCluster, parseQuorumToolStatus, type SandboxCluster } from '../../src/sandbox';
import { isAlive } from '../../src/util/process-identity';
import { mountsUnder } from '../../src/sandbox/teardown';
import { describeIntegration, notes, useCluster } from './support';

const run = promisify(execFile);
// The sandbox module alone (not the package root, which also loads the native addon).
const DIST = path.resolve(__dirname, '../../dist/sandbox/index.js');

const note = notes('sandbox');

async function netnsNames(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n !== '');
}

/** Everything of cluster `c` that could outlive destroy(), collected before it. */
function footprint(c: SandboxCluster): { pids: number[]; netns: string[]; dir: string } {
  const pids = c.nodes.map((n) => c.corosyncPid(n.name)).filter((p): p is number => p !== null);
  return { pids, netns: [c.hubNetns, ...c.nodes.map((n) => n.netns)], dir: c.dir };
}

async function expectGone(f: ReturnType<typeof footprint>): Promise<void> {
  const names = await netnsNames();
  expect(names.filter((n) => f.netns.includes(n))).toEqual([]);
  expect(mountsUnder(f.dir)).toEqual([]);
  expect(fs.existsSync(f.dir)).toBe(false);
  expect(f.pids.filter(isAlive)).toEqual([]);
}

/** Run a script against the built package in a separate node process (a separate owner). */
function child(script: string): ReturnType<typeof spawn> {
  if (!fs.existsSync(DIST)) throw new Error(`${DIST} missing: run npm run build first`);
  return spawn(process.execPath, ['-e', `const sandbox = require(${JSON.stringify(DIST)});\n${script}`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
}

/** First line the child prints (the cluster id). */
function firstLine(p: ReturnType<typeof spawn>): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    p.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    p.on('exit', (code) => reject(new Error(`child exited (${code}) before printing`)));
  });
}

function exited(p: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve() : p.on('exit', () => resolve())));
}

describeIntegration('sandbox: a 3-node cluster (nodeids 2/4/8)', () => {
  const cluster = useCluster({
    nodes: [
      { nodeId: 2, prio: 99 },
      { nodeId: 4, prio: 100 },
      { nodeId: 8, prio: 98, replication: false },
    ],
  });
  const all = [2, 4, 8];

  it('forms quorum: every node is quorate with all three members', async () => {
    note('create + start + form 3-node cluster', cluster.createMs!);
    const c = cluster();
    for (const n of c.nodes) {
      const s = await c.quorumStatus(n.name);
      expect(s).toMatchObject({ nodeId: n.nodeId, quorate: true, expectedVotes: 3, totalVotes: 3, members: all });
    }
  });

  it('gives every node its own network, corosync.conf and private directories', async () => {
    const c = cluster();
    const addr = await c.exec('n4', ['ip', '-o', '-4', 'addr', 'show', 'dev', 'vmbr0'], { mountNs: false });
    expect(addr.stdout).toContain('inet 198.18.0.4/24');
    const links = await c.exec('n4', ['ls', '/sys/class/net']);
    expect(
      links.stdout
        .split('\n')
        .filter((l) => l !== '')
        .sort(),
    ).toEqual(['eth0', 'lo', 'vmbr0']);
    // The node's /etc/corosync is its directory on the host: a file written there shows up inside.
    fs.writeFileSync(c.hostPath('n8', '/etc/corosync/marker'), 'n8\n');
    expect((await c.exec('n8', ['cat', '/etc/corosync/marker'])).stdout).toBe('n8\n');
    expect((await c.exec('n2', ['cat', '/etc/corosync/marker'])).code).not.toBe(0);
    // A client that only enters the node's network namespace reaches that node's corosync
    // (libqb IPC uses abstract sockets, per netns, and the shared /dev/shm).
    const viaIp = await run('ip', ['netns', 'exec', c.node('n8').netns, 'corosync-quorumtool', '-s']);
    expect(parseQuorumToolStatus(viaIp.stdout)).toMatchObject({ nodeId: 8, quorate: true, members: all });
    // The node's configuration is valid for corosync itself (-t reads /etc/corosync/corosync.conf).
    expect(await c.exec('n4', ['corosync', '-t'])).toMatchObject({ code: 0 });
    // corosync's pid file is in the node's own /run.
    expect(fs.readFileSync(c.hostPath('n2', '/run/corosync.pid'), 'utf8').trim()).toBe(String(c.corosyncPid('n2')));
    expect(fs.readFileSync(c.logPath('n2'), 'utf8')).toMatch(/Corosync Cluster Engine/);
    // The nodelist keys reach cmap (prio/replication are kept as unknown keys).
    const cmap = await c.exec('n2', ['corosync-cmapctl', 'nodelist.node.'], { mountNs: false });
    expect(cmap.stdout).toMatch(/nodelist\.node\.1\.prio \(str\) = 100/);
    expect(cmap.stdout).toMatch(/nodelist\.node\.2\.replication \(str\) = off/);
    // spawn() children run in the node: pid is the command's.
    const p = c.spawn('n8', ['sleep', '30'], { stdio: 'ignore' });
    await new Promise((r) => p.once('spawn', r));
    await expect.poll(() => fs.readFileSync(`/proc/${p.pid}/comm`, 'utf8').trim()).toBe('sleep');
    expect(fs.readlinkSync(`/proc/${p.pid}/ns/net`)).toBe(fs.readlinkSync(`/proc/${c.corosyncPid('n8')}/ns/net`));
    p.kill();
  });

  it('cut partitions a node: the others see it leave and stay quorate, it loses quorum; heal restores', async () => {
    const c = cluster();
    const t0 = Date.now();
    await c.cut('n8');
    expect(await c.isCut('n8')).toBe(true);
    await Promise.all([c.waitMembers('n2', [2, 4], { intervalMs: 50 }), c.waitMembers('n4', [2, 4], { intervalMs: 50 })]);
    note('others see a cut node leave (token 1000)', Date.now() - t0);
    const status = await c.status();
    expect(status.map((s) => [s.name, s.cut, s.pid !== null, s.quorum?.members])).toEqual([
      ['n2', false, true, [2, 4]],
      ['n4', false, true, [2, 4]],
      ['n8', true, true, expect.any(Array)],
    ]);
    expect(await c.quorumStatus('n2')).toMatchObject({ quorate: true, members: [2, 4] });
    expect(await c.quorumStatus('n4')).toMatchObject({ quorate: true, members: [2, 4] });
    expect(await c.waitNotQuorate('n8')).toMatchObject({ quorate: false, members: [8] });

    const t1 = Date.now();
    await c.heal('n8');
    expect(await c.isCut('n8')).toBe(false);
    await c.waitFormed();
    note('heal -> all three members again', Date.now() - t1);
  });

  it('SIGKILL of corosync on a node: the others see it leave; started again it rejoins', async () => {
    const c = cluster();
    const pid = c.corosyncPid('n2')!;
    await c.kill('n2');
    expect(isAlive(pid)).toBe(false);
    expect(c.isRunning('n2')).toBe(false);
    expect(await c.quorumStatus('n2')).toBeNull();
    expect(fs.readdirSync('/dev/shm').filter((e) => e.includes(`-${pid}-`))).toEqual([]);
    await c.waitMembers('n4', [4, 8]);
    const t0 = Date.now();
    const newPid = await c.start('n2');
    expect(newPid).not.toBe(pid);
    await c.waitFormed();
    note('restart killed node -> rejoined', Date.now() - t0);
  });

  it('stop (SIGTERM) shuts corosync down cleanly; the rest stay quorate', async () => {
    const c = cluster();
    await c.stop('n4');
    expect(c.isRunning('n4')).toBe(false);
    await c.waitMembers('n2', [2, 8]);
    expect((await c.quorumStatus('n8'))!.quorate).toBe(true);
    await c.start('n4');
    await c.waitFormed();
  });
});

describeIntegration('sandbox: parallel clusters, persistence and cleanup', () => {
  it('createCluster returns with every bridge and veth operationally up (frames sent before that are dropped)', async () => {
    // The kernel sets a bridge's operational state (and gives it its queue) in deferred work, up
    // to a second later; a frame sent before is dropped without an error. Before this wait, a
    // node's vmbr0 was still DOWN here, and the first ARP probe of a test heard nothing.
    const c = await createCluster({ nodes: 2, start: false, waitFormed: false });
    try {
      const state = async (netns: string) => JSON.parse((await run('ip', ['-n', netns, '-j', 'link', 'show'])).stdout) as Array<{ ifname: string; operstate: string }>;
      for (const n of c.nodes) {
        const links = await state(n.netns);
        expect(links.filter((l) => l.ifname !== 'lo').map((l) => [l.ifname, l.operstate])).toEqual(
          expect.arrayContaining([
            ['vmbr0', 'UP'],
            ['eth0', 'UP'],
          ]),
        );
      }
      const hub = await state(c.hubNetns);
      for (const dev of ['hub0', ...c.nodes.map((n) => n.hubVeth)]) expect(hub.find((l) => l.ifname === dev)?.operstate).toBe('UP');
    } finally {
      await c.destroy();
    }
  });

  it('two clusters on the same subnet run at once without interfering; destroy leaves nothing', async () => {
    const t0 = Date.now();
    const [a, b] = await Promise.all([createCluster({ nodes: 2 }), createCluster({ nodes: 3 })]);
    note('create two clusters in parallel (2 + 3 nodes)', Date.now() - t0);
    // c is created after a's node mount namespaces exist: its network namespaces propagate into
    // them (slave propagation), and destroy() must take them out again.
    const c = await createCluster({ nodes: 1 });
    const fa = footprint(a);
    try {
      expect(new Set([a.id, b.id, c.id]).size).toBe(3);
      expect(a.nodes[0]!.address).toBe(b.nodes[0]!.address);
      expect(await a.quorumStatus('n1')).toMatchObject({ quorate: true, members: [1, 2] });
      expect(await b.quorumStatus('n1')).toMatchObject({ quorate: true, members: [1, 2, 3] });

      await b.cut('n1');
      await b.waitMembers('n2', [2, 3]);
      expect(await a.quorumStatus('n1')).toMatchObject({ quorate: true, members: [1, 2] });

      // Anything started in a node goes with the cluster, not only corosync.
      const sleeper = b.spawn('n2', ['sleep', '300'], { stdio: 'ignore' });
      await new Promise((r) => sleeper.once('spawn', r));
      const fb = footprint(b);
      fb.pids.push(sleeper.pid!);
      const t1 = Date.now();
      await b.destroy();
      note('destroy 3-node cluster', Date.now() - t1);
      await expectGone(fb);
      await b.destroy(); // idempotent
      expect(await a.quorumStatus('n2')).toMatchObject({ quorate: true, members: [1, 2] });

      const aMounts = () => fs.readFileSync(`/proc/${a.corosyncPid('n1')}/mountinfo`, 'utf8');
      expect(aMounts()).toContain(c.nodes[0]!.netns);
      const fc = footprint(c);
      await c.destroy();
      await expectGone(fc);
      expect(aMounts()).not.toContain(c.id);
    } finally {
      await Promise.all([a.destroy(), b.destroy(), c.destroy()]);
    }
    await expectGone(fa);
  });

  it('a persistent cluster outlives its creating process and is re-attached by name', async () => {
    const name = `t-${process.pid}-${Date.now() % 100000}`;
    const p = child(`sandbox.createCluster({ nodes: 2, persistent: true, name: ${JSON.stringify(name)} })
      .then((c) => console.log(c.id), (e) => { console.error(e); process.exit(1); });`);
    const id = await firstLine(p);
    await exited(p);
    expect(cleanupStale()).not.toContain(id);
    const c = openCluster(name);
    try {
      expect(c.id).toBe(id);
      expect(openCluster(id).name).toBe(name);
      expect(listClusters().find((s) => s.id === id)).toMatchObject({ name, persistent: true, ownerAlive: false, complete: true });
      await c.waitFormed();
      await c.cut('n2');
      await c.waitMembers('n1', [1]);
      await c.heal('n2');
      await c.waitFormed();
      await expect(createCluster({ nodes: 1, name, start: false })).rejects.toThrow(/already used/);
    } finally {
      const f = footprint(c);
      await c.destroy();
      await expectGone(f);
    }
    expect(() => openCluster(name)).toThrow(/no sandbox cluster/);
  });

  it("the owner's SIGTERM tears its clusters down; a SIGKILLed owner's are removed by cleanupStale()", async () => {
    const script = `sandbox.createCluster({ nodes: 1 }).then((c) => { console.log(c.id); setInterval(() => {}, 1000); },
      (e) => { console.error(e); process.exit(1); });`;
    const termed = child(script);
    const killed = child(script);
    const [termedId, killedId] = await Promise.all([firstLine(termed), firstLine(killed)]);
    const termedCluster = openCluster(termedId);
    const killedCluster = openCluster(killedId);
    const ft = footprint(termedCluster);
    const fk = footprint(killedCluster);
    expect(ft.pids).toHaveLength(1);

    termed.kill('SIGTERM');
    await exited(termed);
    expect(termed.signalCode).toBe('SIGTERM'); // the handler re-raised: the default action still happens
    await expectGone(ft);

    killed.kill('SIGKILL');
    await exited(killed);
    expect(isAlive(fk.pids[0]!)).toBe(true); // nobody cleaned up...
    expect(listClusters().find((s) => s.id === killedId)?.ownerAlive).toBe(false);
    cleanupStale(); // ...until the next run (or a parallel test file's createCluster) removes it
    await expect.poll(() => fs.existsSync(fk.dir), { timeout: 10_000 }).toBe(false);
    await expectGone(fk);
  });

  it('cleanupStale() removes sandbox namespaces whose cluster directory is gone', async () => {
    const orphan = `colsb-${'0123456789abcdef'[Date.now() % 16]}0${String(process.pid % 10000).padStart(4, '0')}-n1`;
    await run('ip', ['netns', 'add', orphan]);
    try {
      cleanupStale();
      expect(await netnsNames()).not.toContain(orphan);
    } finally {
      await run('ip', ['netns', 'delete', orphan]).catch(() => {});
    }
  });
});

describeIntegration('sandbox: 16 nodes, the upper bound', () => {
  it('builds 16 nodes (namespaces, bridges, veths, configs), forms one 16-member quorum and tears down completely', async () => {
    const ids = Array.from({ length: 16 }, (_, i) => i + 1);
    const t0 = Date.now();
    // token_coefficient 0: the token stays at 1000 ms instead of growing to 10.1 s with 16 nodes,
    // which keeps the formation short (this checks the build, not corosync's timing).
    const c = await createCluster({ nodes: 16, start: false, tokenCoefficientMs: 0 });
    note('build 16 nodes (no corosync)', Date.now() - t0);
    try {
      expect(await netnsNames()).toEqual(expect.arrayContaining([c.hubNetns, ...c.nodes.map((n) => n.netns)]));
      const hubPorts = await run('ip', ['-n', c.hubNetns, '-o', 'link', 'show', 'master', 'hub0']);
      expect(hubPorts.stdout.match(/ veth-n\d+@/g)?.sort()).toEqual(ids.map((i) => ` veth-n${i}@`).sort());
      for (const n of c.nodes) {
        const addr = await run('ip', ['-n', n.netns, '-o', '-4', 'addr', 'show', 'dev', 'vmbr0']);
        expect(addr.stdout).toContain(`inet 198.18.0.${n.nodeId}/24`);
        const ports = await run('ip', ['-n', n.netns, '-o', 'link', 'show', 'master', 'vmbr0']);
        expect(ports.stdout).toMatch(/ eth0@/);
        const conf = fs.readFileSync(c.confPath(n.name), 'utf8');
        expect(conf.match(/nodeid:\s*\d+/g)).toHaveLength(16);
      }

      const t1 = Date.now();
      await c.startAll();
      await c.waitFormed(undefined, { timeoutMs: 180_000 }); // 16 corosyncs on 2 busy cores pause and re-gather
      note('start corosync on 16 nodes -> every node quorate with all 16', Date.now() - t1);
      expect(await c.quorumStatus('n16')).toMatchObject({ nodeId: 16, quorate: true, expectedVotes: 16, totalVotes: 16, members: ids });

      const f = footprint(c);
      expect(f.pids).toHaveLength(16);
      const t2 = Date.now();
      await c.destroy();
      note('destroy 16-node cluster', Date.now() - t2);
      await expectGone(f);
    } finally {
      await c.destroy();
    }
  });
});
