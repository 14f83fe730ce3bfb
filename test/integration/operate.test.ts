// Issue 18 acceptance on real sandbox clusters (3 and 5 nodes) with `corolistener run` on every
// node and the fault matrix's monitor sampling every 100 ms: switchover to each node in turn (0
// violations; the no-holder gap from the daemons' own measurement and from `ip monitor`),
// switchover refused for a non-member, prio set moving the role, maintenance on then the
// master cut (no action anywhere) and off (reconciled), standby of the master, history across a
// listener restart, metrics scraped and checked by promtool, and 2,000 idle connections to each
// listening port. Traffic stays in the namespaces the sandbox creates; everything is torn down.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { AddressMonitor, ClusterMonitor, holdersOf, LISTENER_FILES, SandboxListener, startListeners, type SandboxCluster } from '../../src/sandbox';
import { CLUSTER_IP, callSummary, diagnostics, roles, useListeners, waitMaster, waitUntil } from './listener-support';
import { describeIntegration, notes, useCluster } from './support';

const MAIN = path.resolve(__dirname, '../../dist/cli/main.js');
const METRICS_PORT = 9410;
const note = notes('operate');
/** Every gap measured in this file, for BENCHMARKS.md: daemons' own and `ip monitor`'s. */
const gaps: { nodes: number; daemonMs: number | null; ipMonitorMs: number | null }[] = [];

afterAll(() => {
  const summary = (values: number[]) => {
    const s = [...values].sort((a, b) => a - b);
    return s.length === 0 ? 'none' : `median ${s[Math.floor((s.length - 1) / 2)]!.toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms, n=${s.length}`;
  };
  for (const n of [3, 5]) {
    const g = gaps.filter((x) => x.nodes === n);
    if (g.length === 0) continue;
    note(`${n} nodes: no-holder gap (daemons)`, summary(g.flatMap((x) => (x.daemonMs === null ? [] : [x.daemonMs]))), '');
    note(`${n} nodes: no-holder gap (ip monitor)`, summary(g.flatMap((x) => (x.ipMonitorMs === null ? [] : [x.ipMonitorMs]))), '');
  }
});

interface OperateAnswer {
  ok: boolean;
  message: string;
  configVersion?: number;
  handover?: { from: number; to: number; gapMs: number | null };
}

async function cli(l: SandboxListener, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return l.cli(args);
}

/** The time with no holder of the cluster IP around `from`'s release, from every node's `ip monitor`. */
function ipMonitorGap(monitors: Map<string, AddressMonitor>, from: string, to: string, since: number): number | null {
  const removed = monitors.get(from)!.events.find((e) => !e.added && e.at >= since);
  const added = monitors.get(to)!.events.find((e) => e.added && e.at >= since);
  return removed === undefined || added === undefined ? null : added.at - removed.at;
}

/** Hand the role to each node in turn, from the current master, and check the monitor saw nothing wrong. */
async function switchoverRound(c: SandboxCluster, ls: Map<string, SandboxListener>, first: string, order: string[]): Promise<void> {
  const monitor = new ClusterMonitor(c, ls);
  const monitors = new Map(c.nodes.map((n) => [n.name, new AddressMonitor(c, n.name, CLUSTER_IP)]));
  let master = first;
  try {
    await new Promise((r) => setTimeout(r, 300)); // the address monitors are subscribed
    monitor.start();
    for (const target of order) {
      const since = Date.now();
      const id = c.nodes.find((n) => n.name === target)!.nodeId;
      const r = await cli(ls.get(master)!, ['switchover', String(id), '--json', '--timeout', '60000']);
      expect(r.code, `${r.stdout}${r.stderr}\n${diagnostics(ls)}`).toBe(0);
      const answer = JSON.parse(r.stdout) as OperateAnswer;
      expect(answer.ok).toBe(true);
      expect(answer.message).toContain(`node ${id} is master, all ${c.nodes.length} members at config_version`);
      await waitMaster(c, ls, target);
      await new Promise((r2) => setTimeout(r2, 300)); // the last `ip monitor` events are in
      const ipGap = ipMonitorGap(monitors, master, target, since);
      gaps.push({ nodes: c.nodes.length, daemonMs: answer.handover?.gapMs ?? null, ipMonitorMs: ipGap });
      note(`switchover ${master} -> ${target}`, `daemons ${answer.handover?.gapMs ?? '?'} ms, ip monitor ${ipGap ?? '?'}`, 'ms no holder');
      // Never two holders: the old master's removal comes before the new master's add.
      expect(ipGap).not.toBeNull();
      expect(ipGap!).toBeGreaterThanOrEqual(0);
      master = target;
    }
  } finally {
    for (const m of monitors.values()) m.stop();
    const violations = await monitor.stop();
    expect(violations, JSON.stringify(violations)).toEqual([]);
    note(`monitor samples (${c.nodes.length} nodes)`, monitor.samples, '');
  }
}

describeIntegration('operating the cluster, 3 nodes (issue 18)', () => {
  const cluster = useCluster({
    nodes: [
      { nodeId: 2, prio: 99 },
      { nodeId: 4, prio: 100 },
      { nodeId: 8, prio: 98 },
    ],
  });
  const listeners = useListeners(cluster, { env: { COROLISTENER_METRICS: `0.0.0.0:${METRICS_PORT}` } });

  it('switchover to each node in turn: ordered, 0 monitor violations, the no-holder gap reported', async () => {
    const c = cluster();
    const ls = listeners();
    await waitMaster(c, ls, 'n4');
    await switchoverRound(c, ls, 'n4', ['n2', 'n8', 'n4']);
  });

  it('switchover refused for a non-member (exit 1, one line naming it); prio set that moves the role', async () => {
    const c = cluster();
    const ls = listeners();
    await c.cut('n8');
    await waitUntil('n4 to see n8 gone', async () => (await ls.get('n4')!.status())?.report.nodes.find((n) => n.id === 8)?.status === 'left', { diag: () => diagnostics(ls) });
    const r = await cli(ls.get('n4')!, ['switchover', '8']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^corolistener: node 8 is not a member of this quorate partition \(members: 2,4\)\n$/);
    // Given to a slave, a command is forwarded to the master over CPG (signed) and answered from there.
    const slave = await cli(ls.get('n2')!, ['standby', '8', 'off']);
    expect(slave.code, slave.stderr).toBe(0);
    expect(slave.stdout).toBe('node 8 is already out of standby: nothing written (done by node 4)\n');
    await c.heal('n8');
    await c.waitFormed(undefined, { timeoutMs: 120_000 });
    await waitMaster(c, ls, 'n4');
    const prio = await cli(ls.get('n4')!, ['prio', 'set', '2', '500']);
    expect(prio.code, prio.stderr).toBe(0);
    expect(prio.stdout).toMatch(/^prio set 2 500: config_version \d+; the master role moves from node 4 to node 2 \(ordered hand-over\); node 2 is master/);
    await waitMaster(c, ls, 'n2');
  });

  it('maintenance on, then the master cut off: nobody acts; off is refused while it is away and reconciles once it is back', async () => {
    const c = cluster();
    const ls = listeners();
    await waitMaster(c, ls, 'n2');
    const on = await cli(ls.get('n2')!, ['maintenance', 'on']);
    expect(on.code, on.stderr).toBe(0);
    await waitUntil('every listener in maintenance', async () => {
      const tables = await Promise.all([...ls.values()].map((l) => cli(l, ['-l'])));
      return tables.every((t) => t.stdout.includes(' maintenance mode: on') && /Priority {2,}Flags\n/.test(t.stdout));
    });
    const since = Date.now();
    await c.cut('n2');
    await waitUntil('n2 not quorate', async () => (await ls.get('n2')!.status())?.report.cluster.quorate === false, { diag: () => diagnostics(ls) });
    await waitUntil('n4 and n8 without n2', async () => (await ls.get('n4')!.status())?.report.nodes.find((n) => n.id === 2)?.status === 'left');
    await new Promise((r) => setTimeout(r, 4000));
    // No action anywhere: no command ran, the cut master still holds the address, nobody took it.
    expect(callSummary(ls, since)).toEqual({ n2: [], n4: [], n8: [] });
    expect(await holdersOf(c, CLUSTER_IP)).toEqual(['n2']);
    expect(await roles(ls)).toEqual({ n2: 'master', n4: 'slave', n8: 'slave' });
    expect(
      ls
        .get('n4')!
        .logLines()
        .some((l) => l.event === 'decision' && /maintenance, would be/.test(String(l.explanation))),
    ).toBe(true);
    // Off is refused in the majority while n2 is away (it suspended nothing, still runs its VMs).
    const refusals = await Promise.all(['n4', 'n8'].map((n) => cli(ls.get(n)!, ['maintenance', 'off'])));
    expect(refusals.map((r) => r.code)).toEqual([1, 1]);
    expect(refusals.map((r) => r.stderr).join('')).toContain('node(s) 2 not in this partition may still run their VMs untouched by maintenance');
    await c.heal('n2');
    await c.waitFormed(undefined, { timeoutMs: 120_000 });
    await waitUntil('n2 quorate again', async () => (await ls.get('n2')!.status())?.report.cluster.quorate);
    const off = await cli(ls.get('n2')!, ['maintenance', 'off']);
    expect(off.code, off.stderr + diagnostics(ls)).toBe(0);
    await waitMaster(c, ls, 'n2');
    expect(callSummary(ls, since)).toEqual({ n2: [], n4: [], n8: [] }); // reconciled: nothing was owed
    expect((await cli(ls.get('n8')!, ['-l'])).stdout).not.toContain('maintenance');
  });

  it('standby of the master hands the role over first; -l and status show it', async () => {
    const c = cluster();
    const ls = listeners();
    await waitMaster(c, ls, 'n2');
    const r = await cli(ls.get('n2')!, ['standby', '2', 'on']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/the master role moves from node 2 to node 4 \(ordered hand-over\); node 4 is master/);
    await waitMaster(c, ls, 'n4');
    const table = (await cli(ls.get('n8')!, ['-l'])).stdout;
    expect(table).toMatch(/ {10}2 {7}198\.18\.0\.2 {4}joined {13}S {7}\d+ {9}standby\n/);
    expect((await cli(ls.get('n8')!, ['status'])).stdout).toContain('standby:  node(s) 2');
    const off = await cli(ls.get('n4')!, ['standby', '2', 'off']);
    expect(off.code, off.stderr).toBe(0);
    await waitMaster(c, ls, 'n4'); // sticky: no move back
  });

  it('history across a listener restart', async () => {
    const c = cluster();
    const ls = listeners();
    const l = ls.get('n8')!;
    await l.stop();
    await l.start();
    await waitMaster(c, ls, 'n4');
    const r = await c.exec('n8', [process.execPath, MAIN, 'history', '--json', '--state-dir', LISTENER_FILES.stateDir]);
    expect(r.code, r.stderr).toBe(0);
    const entries = r.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { kind: string; run: string; role?: string; explanation?: string });
    expect(new Set(entries.map((e) => e.run)).size).toBe(2);
    expect(entries.some((e) => e.kind === 'decision' && /maintenance/.test(e.explanation ?? ''))).toBe(true);
    expect(entries.some((e) => e.kind === 'step')).toBe(true);
    const text = await c.exec('n8', [process.execPath, MAIN, 'history', '--since', '1h', '--state-dir', LISTENER_FILES.stateDir]);
    expect(text.stdout).toMatch(/ {2}slave {2}master 4 {2}members 2,4,8 \(quorate\)/);
  });

  it('metrics scraped and checked by promtool', async () => {
    const c = cluster();
    const scrape = await c.exec('n4', [process.execPath, '-e', 'fetch(process.argv[1]).then((r) => r.text()).then((t) => process.stdout.write(t))', `http://127.0.0.1:${METRICS_PORT}/metrics`]);
    expect(scrape.code, scrape.stderr).toBe(0);
    for (const line of ['corolistener_role{role="master"} 1', 'corolistener_quorate 1', 'corolistener_master_nodeid 4', 'corolistener_members 3', 'corolistener_maintenance 0'])
      expect(scrape.stdout.split('\n')).toContain(line);
    expect(scrape.stdout).toMatch(/^corolistener_failovers_total [1-9]/m);
    expect(scrape.stdout).toMatch(/^corolistener_step_duration_seconds_count\{step="addClusterIp",outcome="ok"\} [1-9]/m);
    const check = spawnSync('promtool', ['check', 'metrics'], { input: scrape.stdout, encoding: 'utf8', timeout: 60_000 });
    expect(check.error).toBeUndefined();
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('2,000 idle connections to each listening port: descriptors stay bounded, a real config sync still succeeds', async () => {
    const c = cluster();
    const ls = listeners();
    const target = ls.get('n4')!;
    const pid = target.pid!;
    const fds = () => fs.readdirSync(`/proc/${pid}/fd`).length;
    const before = fds();
    const client = await c.addClient({ name: 'flood' });
    const flood = client.spawn([process.execPath, path.resolve(__dirname, 'fixtures/idle-flood.cjs'), '2000', '8000', '198.18.0.4:5407', `198.18.0.4:${METRICS_PORT}`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    flood.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const ended = new Promise<void>((resolve) => flood.on('exit', () => resolve()));
    let most = before;
    try {
      const syncSince = Date.now();
      await new Promise((r) => setTimeout(r, 1500));
      // While the flood holds: a real config sync from n8 (in the nodelist) is answered by n4.
      const sync = await c.exec('n8', [process.execPath, MAIN, 'config', 'sync']);
      expect(sync.code, sync.stderr).toBe(0);
      await waitUntil(
        'n4 to have served n8',
        () => target.logLines().some((l) => l.msg === 'config sync: served corosync.conf' && String(l.peer).startsWith('198.18.0.8:') && Date.parse(String(l.time)) >= syncSince),
        {
          timeoutMs: 10_000,
        },
      );
      const end = Date.now() + 5000;
      while (Date.now() < end) {
        most = Math.max(most, fds());
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      await ended;
    }
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { target: string; connected: number; closedByServer: number });
    note('flood: listener descriptors before / most during', `${before} / ${most}`, '');
    note('flood', JSON.stringify(lines), '');
    expect(most - before).toBeLessThan(100);
    // Every connection closed by the server while held: sync (outside the nodelist) at once,
    // metrics beyond 8 at once and the 8 idle ones after 5 s.
    expect(lines.map((l) => l.connected)).toEqual([2000, 2000]);
    expect(lines.map((l) => l.closedByServer)).toEqual([2000, 2000]);
    expect((await cli(target, ['status'])).code).toBe(0);
  });
});

describeIntegration('operating the cluster, 5 nodes (issue 18)', () => {
  const cluster = useCluster({
    nodes: [
      { nodeId: 1, prio: 10 },
      { nodeId: 2, prio: 20 },
      { nodeId: 3, prio: 30 },
      { nodeId: 4, prio: 40 },
      { nodeId: 5, prio: 50 },
    ],
  });
  const listeners = useListeners(cluster);

  it('switchover to each node in turn: ordered, 0 monitor violations, the no-holder gap reported', async () => {
    const c = cluster();
    const ls = listeners();
    await waitMaster(c, ls, 'n5');
    await switchoverRound(c, ls, 'n5', ['n1', 'n2', 'n3', 'n4', 'n5']);
  });
});

describeIntegration('a 4th node added to a running 3-node cluster and removed (issue 18)', () => {
  // Four nodes exist in the sandbox, but the cluster starts as three: n11 is not in their
  // nodelist and has no corosync.conf until `node add` and `config sync --from`.
  const cluster = useCluster({
    nodes: [
      { nodeId: 2, prio: 99 },
      { nodeId: 4, prio: 100 },
      { nodeId: 8, prio: 98 },
      { nodeId: 11, prio: 10 },
    ],
    start: false,
    waitFormed: false,
  });
  let listeners: Map<string, SandboxListener> = new Map();
  afterAll(async () => {
    await Promise.all([...listeners.values()].map((l) => l.kill().catch(() => undefined)));
  });

  it('node add, config sync --from on the new node, all quorate with 4 and the master unchanged; node remove once it is down', async () => {
    const c = cluster();
    const three = ['n2', 'n4', 'n8'];
    const { applyOperatorEdits } = await import('../../src/config/operator-edits');
    const { parseCorosyncConf, serializeCorosyncConf } = await import('../../src/config');
    for (const n of three) {
      const file = c.confPath(n);
      const doc = parseCorosyncConf(fs.readFileSync(file, 'utf8'), file);
      const version = Number(/config_version: (\d+)/.exec(fs.readFileSync(file, 'utf8'))?.[1] ?? '0');
      fs.writeFileSync(file, serializeCorosyncConf(applyOperatorEdits(doc, [{ removeNode: 11 }], version + 1)));
    }
    fs.rmSync(c.confPath('n11'));
    for (const n of three) await c.start(n);
    await c.waitFormed(three, { timeoutMs: 120_000 });
    listeners = new Map((await startListeners(c, three)).map((l) => [l.node.name, l]));
    await waitMaster(c, listeners, 'n4');

    const add = await cli(listeners.get('n4')!, ['node', 'add', '11', '198.18.0.11', '--prio', '10', '--name', 'n11']);
    expect(add.code, add.stderr + diagnostics(listeners)).toBe(0);
    expect(add.stdout).toMatch(/^node add 11 198\.18\.0\.11 --prio 10 --name n11: config_version \d+\n$/);
    const version = /config_version (\d+)/.exec(add.stdout)![1]!;
    await waitUntil('every file with node 11', () => three.every((n) => fs.readFileSync(c.confPath(n), 'utf8').includes(`config_version: ${version}\n`)), { diag: () => diagnostics(listeners) });
    expect(fs.readFileSync(c.confPath('n2'), 'utf8')).toMatch(/ring0_addr: 198\.18\.0\.11\n\s+nodeid: 11\n\s+name: n11\n\s+prio: 10\n/);

    const l11 = new SandboxListener(c, 'n11');
    l11.prepare(); // the cluster key in its /etc/corosync, as on the others
    const sync = await c.exec('n11', [process.execPath, MAIN, 'config', 'sync', '--from', '198.18.0.4']);
    expect(sync.code, sync.stderr).toBe(0);
    expect(sync.stdout).toBe(`config sync: installed config_version ${version} from 198.18.0.4 (there was none)\n`);
    await c.start('n11');
    await l11.start();
    listeners.set('n11', l11);
    // All quorate with four members, as every listener reports it (and -l prints it).
    await waitUntil(
      'every listener quorate with members 2,4,8,11',
      async () => {
        const reports = await Promise.all([...listeners.values()].map((l) => l.status()));
        return reports.every((r) => r?.report.cluster.quorate === true && r.report.nodes.filter((n) => n.status === 'joined').length === 4);
      },
      { timeoutMs: 60_000, diag: () => diagnostics(listeners) },
    );
    await waitMaster(c, listeners, 'n4');
    for (const l of listeners.values()) expect((await cli(l, ['-l'])).stdout.split('\n').filter((line) => / joined /.test(line))).toHaveLength(4);
    // corosync itself has the four (corosync-quorumtool, the name from --name).
    await c.waitFormed(undefined, { timeoutMs: 120_000 });

    await l11.stop();
    listeners.delete('n11');
    await c.stop('n11');
    await waitUntil('n4 to see n11 gone', async () => (await listeners.get('n4')!.status())?.report.nodes.find((n) => n.id === 11)?.status === 'left');
    const refusedMaster = await cli(listeners.get('n2')!, ['node', 'remove', '4']);
    expect(refusedMaster.code).toBe(1);
    const remove = await cli(listeners.get('n4')!, ['node', 'remove', '11']);
    expect(remove.code, remove.stderr).toBe(0);
    await waitUntil('node 11 gone from every file', () => three.every((n) => !fs.readFileSync(c.confPath(n), 'utf8').includes('nodeid: 11')));
    await waitUntil('-l with 3 nodes', async () => (await cli(listeners.get('n8')!, ['-l'])).stdout.split('\n').filter((l) => / (joined|left) /.test(l)).length === 3);
    await waitMaster(c, listeners, 'n4');
  });
});
