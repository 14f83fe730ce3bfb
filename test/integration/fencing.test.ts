// Self-fencing on real corosync clusters (issue 15, acceptance 1-5): VMs are processes in the
// sandbox nodes, each node has a fake watchdog (the test reads its FIFO and powers the node off
// when not fed for WatchdogTimeout = 5 s), and a monitor samples every 100 ms for a VM running on
// two nodes. The fence window a node announces is 5 s + corosync's failure detection (+10%) + 2 s.
// Deadlines are generous (a loaded machine); the times measured are printed, not asserted.
//
// Part of the fault matrix: `npm run faults` runs each scenario FAULTS_RUNS times and writes its
// results as the "Self-fencing" section of RELIABILITY.md (FAULTS_REPORT), after faults.test.ts.
import { afterAll, expect, it } from 'vitest';
import { createCluster, FencingRig, fencingStatus, holdersOf, restores, runningVms, signalNode, WATCHDOG_TIMEOUT_S, type SandboxCluster } from '../../src/sandbox';
import { NODE_DIR } from '../../src/sandbox/fencing-rig';
import { CLUSTER_IP, waitUntil } from './listener-support';
import { describeIntegration, notes } from './support';
import { writeFencingSection } from './fencing-report';
import * as fs from 'node:fs';

const note = notes('fencing');
const RUNS = Math.max(1, Number(process.env['FAULTS_RUNS'] ?? 1));
const REPORT = process.env['FAULTS_REPORT'];

interface FencingResult {
  runs: number;
  passed: number;
  violations: string[];
  samples: number;
  /** Measured times (ms) by name, over every run. */
  times: Record<string, number[]>;
}
const results = new Map<string, FencingResult>();
const started = new Date();

afterAll(() => {
  if (REPORT)
    writeFencingSection(REPORT, results, {
      command: `FAULTS_RUNS=${RUNS} FAULTS_REPORT=${REPORT} vitest run test/integration/fencing.test.ts (the second half of npm run faults)`,
      started,
      finished: new Date(),
    });
});

/** One scenario, RUNS times, each in a fresh cluster; its measurements and violations recorded. */
function scenario(name: string, body: (measure: (what: string, ms: number) => void) => Promise<void>): void {
  it(
    name,
    async () => {
      const r: FencingResult = results.get(name) ?? { runs: 0, passed: 0, violations: [], samples: 0, times: {} };
      results.set(name, r);
      for (let i = 0; i < RUNS; i++) {
        r.runs++;
        try {
          await body((what, ms) => {
            (r.times[what] ??= []).push(ms);
            note(`${name.slice(0, 3)} ${what}`, ms);
          });
          r.passed++;
        } catch (err) {
          r.violations.push(...(rig?.monitor.violations ?? []), `run ${i + 1}: ${(err as Error).message.split('\n')[0]}`);
          throw err;
        } finally {
          r.samples += rig?.monitor.samples ?? 0;
          await rig?.stop();
          await cluster?.destroy();
          rig = undefined;
          cluster = undefined;
        }
      }
    },
    RUNS * 240_000,
  );
}
const NODES = [
  { nodeId: 2, prio: 99 },
  { nodeId: 4, prio: 100 },
  { nodeId: 8, prio: 98 },
];

let cluster: SandboxCluster | undefined;
let rig: FencingRig | undefined;

async function setUp(nodes = NODES, opts: { twoNode?: boolean; watchdog?: boolean } = {}): Promise<FencingRig> {
  cluster = await createCluster({ nodes, start: !opts.twoNode, waitFormed: !opts.twoNode });
  if (opts.twoNode) {
    // corosync's two_node (and its implied wait_for_all), no qdevice.
    for (const n of cluster.nodes) {
      const conf = fs.readFileSync(cluster.confPath(n.name), 'utf8');
      fs.writeFileSync(cluster.confPath(n.name), conf.replace(/expected_votes: 2\n/, 'expected_votes: 2\n  two_node: 1\n'));
    }
    const c = cluster;
    await Promise.all(c.nodes.map((n) => c.start(n.name, { timeoutMs: 60_000 })));
    await c.waitFormed(undefined, { timeoutMs: 60_000 });
  }
  const watchdog = opts.watchdog ?? true;
  rig = new FencingRig(cluster, { watchdog });
  await rig.start();
  const r = rig;
  // Every daemon armed and feeding (or, without watchdogs, decided), the master elected.
  await waitUntil(
    watchdog ? 'every watchdog fed' : 'every daemon decided',
    async () => {
      for (const l of r.listeners.values()) {
        const s = await fencingStatus(l);
        if (watchdog ? s?.fencing?.feeding !== true : s?.daemon.role !== 'master' && s?.daemon.role !== 'slave') return false;
      }
      return true;
    },
    { timeoutMs: 60_000 },
  );
  return r;
}

async function masterOf(r: FencingRig): Promise<string | undefined> {
  for (const [name, l] of r.listeners) if (r.poweredOff.get(name) === undefined && (await fencingStatus(l))?.daemon.role === 'master') return name;
  return undefined;
}

function restoredOnce(r: FencingRig, vms: string[]): void {
  const all = restores(r.cluster);
  for (const vm of vms)
    expect(
      all.filter((x) => x.vm === vm),
      `${vm} restored exactly once`,
    ).toHaveLength(1);
}

describeIntegration('self-fencing (issue 15)', () => {
  it('(0) the monitor is not blind: without fencing, a node cut off whose suspend hangs runs its VMs twice', async () => {
    try {
      const r = await setUp(NODES, { watchdog: false });
      await waitUntil('n4 master', async () => (await masterOf(r)) === 'n4', { timeoutMs: 60_000 });
      fs.writeFileSync(r.cluster.hostPath('n8', `${NODE_DIR}/hang-suspend`), '');
      await r.cluster.cut('n8');
      await waitUntil('vm8a restored on n4', () => runningVms(r.cluster).get('vm8a')?.includes('n4') === true, { timeoutMs: 60_000 });
      await waitUntil('the monitor sees vm8a on two nodes', () => r.monitor.violations.some((v) => /vm8a runs on n4 and n8|vm8a runs on n8 and n4/.test(v)), { timeoutMs: 10_000 });
      note('(0) samples with a VM running twice (expected without fencing)', r.monitor.violations.length, '');
    } finally {
      await rig?.stop();
      await cluster?.destroy();
      rig = undefined;
      cluster = undefined;
    }
  }, 240_000);

  scenario('(1) a frozen master is fenced, the cluster IP moves and its VMs are restored once, after the fence', async (measure) => {
    const r = await setUp();
    await waitUntil('n4 master with the cluster IP', async () => (await masterOf(r)) === 'n4' && (await holdersOf(r.cluster, CLUSTER_IP)).join() === 'n4', { timeoutMs: 60_000 });
    const t0 = Date.now();
    expect(signalNode(r.cluster, 'n4', 'SIGSTOP')).toBeGreaterThan(0);
    await waitUntil('n4 fenced by its watchdog', () => r.poweredOff.has('n4'), { timeoutMs: 60_000 });
    await waitUntil('the cluster IP on n2', async () => (await holdersOf(r.cluster, CLUSTER_IP)).join() === 'n2', { timeoutMs: 60_000 });
    const tIp = Date.now();
    await waitUntil('vm4a and vm4b running on n2', () => ['vm4a', 'vm4b'].every((vm) => runningVms(r.cluster).get(vm)?.join() === 'n2'), { timeoutMs: 60_000 });
    const fenced = r.poweredOff.get('n4')!;
    const restored = restores(r.cluster).filter((x) => x.from === 4);
    measure('freeze -> fence', fenced - t0);
    measure('freeze -> cluster IP on n2', tIp - t0);
    measure('freeze -> VMs restored', Math.max(...restored.map((x) => x.ms)) - t0);
    for (const x of restored) expect(x.ms, `${x.vm} restored after n4 was fenced`).toBeGreaterThan(fenced);
    await new Promise((res) => setTimeout(res, 3000));
    restoredOnce(r, ['vm4a', 'vm4b']);
    expect(r.monitor.violations).toEqual([]);
  });

  scenario('(2) a node cut off whose VmSuspendCommand hangs is fenced before its VMs are restored elsewhere', async (measure) => {
    const r = await setUp();
    await waitUntil('n4 master', async () => (await masterOf(r)) === 'n4', { timeoutMs: 60_000 });
    fs.writeFileSync(r.cluster.hostPath('n8', `${NODE_DIR}/hang-suspend`), '');
    const t0 = Date.now();
    await r.cluster.cut('n8');
    await waitUntil('n8 fenced by its watchdog', () => r.poweredOff.has('n8'), { timeoutMs: 60_000 });
    await waitUntil('vm8a and vm8b running on n4', () => ['vm8a', 'vm8b'].every((vm) => runningVms(r.cluster).get(vm)?.join() === 'n4'), { timeoutMs: 60_000 });
    const fenced = r.poweredOff.get('n8')!;
    const restored = restores(r.cluster).filter((x) => x.from === 8);
    measure('cut -> fence', fenced - t0);
    measure('cut -> VMs restored', Math.max(...restored.map((x) => x.ms)) - t0);
    for (const x of restored) expect(x.ms, `${x.vm} restored after n8 was fenced`).toBeGreaterThan(fenced);
    restoredOnce(r, ['vm8a', 'vm8b']);
    expect(r.monitor.violations).toEqual([]);
  });

  scenario('(3) 1|1|1 with working suspends: nobody is fenced and every VM is back after the heal', async (measure) => {
    const r = await setUp();
    const t0 = Date.now();
    for (const n of ['n2', 'n4', 'n8']) await r.cluster.cut(n);
    await waitUntil('every VM suspended', () => runningVms(r.cluster).size === 0, { timeoutMs: 60_000 });
    // Well past every watchdog's timeout and every fence window.
    await new Promise((res) => setTimeout(res, 3 * WATCHDOG_TIMEOUT_S * 1000));
    expect([...r.poweredOff.keys()]).toEqual([]);
    for (const n of ['n2', 'n4', 'n8']) await r.cluster.heal(n);
    await waitUntil(
      'every VM running again where it was',
      () => {
        const running = runningVms(r.cluster);
        return NODES.every((n) => [`vm${n.nodeId}a`, `vm${n.nodeId}b`].every((vm) => running.get(vm)?.join() === `n${n.nodeId}`));
      },
      { timeoutMs: 90_000 },
    );
    measure('split -> VMs back after the heal', Date.now() - t0);
    expect([...r.poweredOff.keys()]).toEqual([]);
    expect(restores(r.cluster)).toEqual([]);
    expect(r.monitor.violations).toEqual([]);
  });

  scenario('(4) listener SIGKILL on the master: restarted within the timeout, no fence; not restarted, fenced and failed over', async (measure) => {
    const r = await setUp();
    await waitUntil('n4 master', async () => (await masterOf(r)) === 'n4', { timeoutMs: 60_000 });
    const l = r.listener('n4');
    await l.kill();
    const t0 = Date.now();
    await l.start();
    measure('SIGKILL -> restarted daemon answering', Date.now() - t0);
    await waitUntil('n4 fed again', async () => (await fencingStatus(l))?.fencing?.feeding === true, { timeoutMs: 30_000 });
    await new Promise((res) => setTimeout(res, 2 * WATCHDOG_TIMEOUT_S * 1000));
    expect([...r.poweredOff.keys()]).toEqual([]);
    expect(await masterOf(r)).toBe('n4');
    expect(restores(r.cluster)).toEqual([]);

    const t1 = Date.now();
    await l.kill();
    await waitUntil('n4 fenced by its watchdog', () => r.poweredOff.has('n4'), { timeoutMs: 60_000 });
    await waitUntil('vm4a and vm4b running on n2', () => ['vm4a', 'vm4b'].every((vm) => runningVms(r.cluster).get(vm)?.join() === 'n2'), { timeoutMs: 60_000 });
    measure('SIGKILL (no restart) -> fence', r.poweredOff.get('n4')! - t1);
    measure('SIGKILL (no restart) -> VMs restored', Math.max(...restores(r.cluster).map((x) => x.ms)) - t1);
    for (const x of restores(r.cluster)) expect(x.ms).toBeGreaterThan(r.poweredOff.get('n4')!);
    expect(await holdersOf(r.cluster, CLUSTER_IP)).toEqual(['n2']);
    restoredOnce(r, ['vm4a', 'vm4b']);
    expect(r.monitor.violations).toEqual([]);
  });

  scenario('(5) two nodes with two_node and no qdevice: a split never runs a VM twice', async () => {
    const r = await setUp(
      [
        { nodeId: 2, prio: 99 },
        { nodeId: 4, prio: 100 },
      ],
      { twoNode: true },
    );
    await waitUntil('n4 master', async () => (await masterOf(r)) === 'n4', { timeoutMs: 60_000 });
    // `config check` on a node says so, from votequorum itself (corosync runs there).
    const check = await r.listener('n2').cli(['config', 'check', '--vmmgr-conf', `${NODE_DIR}/vmmgr.conf`]);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toMatch(/^warning: \/etc\/corosync\/corosync\.conf: two_node: 1 without a registered qdevice \(votequorum\)/m);
    expect(check.stdout).not.toMatch(/WatchdogDevice/);
    await r.cluster.cut('n4');
    // Both sides stay quorate (two_node): n2 elects itself too, but restores nothing of n4's.
    await waitUntil('n2 master of its side', async () => (await fencingStatus(r.listener('n2')))?.daemon.role === 'master', { timeoutMs: 60_000 });
    const status = await fencingStatus(r.listener('n2'));
    expect(status?.fencing?.pending).toEqual([expect.objectContaining({ nodeId: 4, endsAt: null, waitingFor: 'two-node-without-qdevice' })]);
    await new Promise((res) => setTimeout(res, 3 * WATCHDOG_TIMEOUT_S * 1000));
    expect(restores(r.cluster)).toEqual([]);
    expect([...r.poweredOff.keys()]).toEqual([]);
    await r.cluster.heal('n4');
    await waitUntil(
      'one master again',
      async () => {
        const roles = await Promise.all(['n2', 'n4'].map(async (n) => (await fencingStatus(r.listener(n)))?.daemon.role));
        return roles.filter((x) => x === 'master').length === 1;
      },
      { timeoutMs: 60_000 },
    );
    expect(restores(r.cluster)).toEqual([]);
    expect(r.monitor.violations).toEqual([]);
  });
});
