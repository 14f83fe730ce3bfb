// The fault matrix (issue 8): real corosync in sandbox clusters of 3 and 5 nodes, a real
// listener (`corolistener run`) on every node, the fake VMmanager recording every command, and
// a monitor sampling every node every 100 ms for invariant violations (src/sandbox/monitor.ts).
// Every scenario must settle after each fault and its repair, with zero violations.
//
// Part of `npm test` (and so of CI) in a reduced form: every scenario once, a short flapping
// series (4 cuts in 12 s). `npm run faults` (FAULTS_FULL=1) runs every scenario FAULTS_RUNS
// times with the full flapping series (20 cuts in 60 s) and writes RELIABILITY.md (FAULTS_REPORT).
import * as fs from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { ClusterMonitor, cliMainScript, holdersOf, joinPartitions, LISTENER_FILES, partition, type SandboxCluster, type SandboxListener } from '../../src/sandbox';
import { FaultRecorder, type ScenarioContext, writeReliabilityReport } from './fault-support';
import { callsNamed, CLUSTER_IP, useListeners, waitUntil } from './listener-support';
import { describeIntegration, useCluster } from './support';

const FULL = process.env['FAULTS_FULL'] === '1';
const RUNS = Math.max(1, Number(process.env['FAULTS_RUNS'] ?? 1));
/**
 * How long a scenario waits for a condition (it returns as soon as it holds): generous, since
 * corosync alone can take 30 s to re-form a membership after a healed link on a loaded machine
 * (a 15 s wait once expired in 1|1|1 with 0 violations, n1's corosync rejoining late).
 */
const CONDITION_WAIT_MS = 90_000;
const REPORT = process.env['FAULTS_REPORT'];
/** Flapping: cuts and the period they are spread over. */
const FLAPS = FULL ? { cuts: 20, periodMs: 60_000 } : { cuts: 4, periodMs: 12_000 };

const recorder = new FaultRecorder();
const started = new Date();
afterAll(() => {
  if (REPORT) {
    const command = FULL ? `npm run faults (FAULTS_RUNS=${RUNS})` : 'vitest run test/integration/faults.test.ts (reduced CI matrix)';
    writeReliabilityReport(REPORT, [...recorder.results.values()], { command, started, finished: new Date() });
  }
});

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Start corosync on `node` as its systemd unit does on a real node: `corolistener config sync`
 * first (the corosync.service drop-in), so a node that missed a configuration change while
 * its corosync was down fetches it instead of being refused by the cluster for an old
 * config_version. A failed sync is not fatal (the drop-in's "-"): corosync starts anyway.
 */
async function startCorosync(cluster: SandboxCluster, node: string): Promise<void> {
  const sync = await cluster.exec(node, [process.execPath, cliMainScript(), 'config', 'sync'], { timeoutMs: 30_000 });
  if (sync.code !== 0) console.warn(`fault matrix: config sync on ${node} failed (${sync.code}): ${sync.stderr.trim()}`);
  await cluster.start(node);
}

/** Back to a healthy cluster whatever a scenario left: links up, one partition, corosync and listeners running. */
async function restore(cluster: SandboxCluster, listeners: Map<string, SandboxListener>): Promise<void> {
  await joinPartitions(cluster);
  for (const n of cluster.nodes) await cluster.heal(n.name);
  for (const n of cluster.nodes) if (!cluster.isRunning(n.name)) await startCorosync(cluster, n.name);
  for (const l of listeners.values()) if (l.pid === null) await l.start();
  // A failed scenario may leave the daemons in a state they do not leave by themselves (its
  // violations are recorded): restart them so the next scenario starts from a clean cluster.
  if ((await new ClusterMonitor(cluster, listeners).settle(Date.now(), 15_000)).settleMs === null) {
    console.warn('fault matrix: cluster not settled after a scenario: restarting every listener');
    for (const l of listeners.values()) await l.kill();
    for (const l of listeners.values()) await l.start();
  }
  // A scenario that failed may leave the cluster IP on a node that is not master (its
  // violation is already recorded): clear it so the next scenario starts clean.
  for (const holder of await holdersOf(cluster, CLUSTER_IP)) {
    const role = (
      await listeners
        .get(holder)!
        .status()
        .catch(() => undefined)
    )?.daemon.role;
    if (role === 'master') continue;
    console.warn(`fault matrix: removing a leftover cluster IP from ${holder} (listener role ${role ?? 'no answer'})`);
    await cluster.exec(holder, ['ip', 'addr', 'del', `${CLUSTER_IP}/24`, 'dev', 'vmbr0'], { mountNs: false });
  }
}

interface Scenario {
  name: string;
  body: (ctx: ScenarioContext) => Promise<void>;
}

function matrix(size: 3 | 5, scenarios: Scenario[]): void {
  const nodes = Array.from({ length: size }, (_, i) => ({ nodeId: i + 1, prio: 100 - i }));
  describeIntegration(`fault matrix, ${size} nodes`, () => {
    const cluster = useCluster({ nodes });
    const listeners = useListeners(cluster);
    for (const s of scenarios) {
      it(
        s.name,
        async () => {
          for (let i = 0; i < RUNS; i++) {
            try {
              await recorder.run(s.name, cluster(), listeners(), s.body);
            } finally {
              await restore(cluster(), listeners());
            }
          }
          expect(recorder.results.get(s.name)?.violations).toEqual([]);
        },
        RUNS * 300_000,
      );
    }
  });
}

/** Cuts and heals `node`'s link FLAPS.cuts times, evenly over FLAPS.periodMs, then waits for the cluster to settle. */
async function flapLink(ctx: ScenarioContext, node: string): Promise<void> {
  const half = FLAPS.periodMs / FLAPS.cuts / 2;
  for (let i = 0; i < FLAPS.cuts; i++) {
    await ctx.cluster.cut(node);
    await delay(half);
    await ctx.cluster.heal(node);
    ctx.fault();
    await delay(half);
  }
  await ctx.settle('flapping over');
}

/** The slave that becomes master when the master goes: highest priority, eligible (ties: lowest nodeid). */
async function nextMaster(ctx: ScenarioContext): Promise<string> {
  const status = await ctx.listeners.get(ctx.master())!.status();
  const masterId = status!.report.masterNodeId;
  const next = status!.report.nodes.filter((n) => n.id !== masterId && n.replication).sort((a, b) => (b.priority ?? 0) - (a.priority ?? 0) || a.id - b.id)[0]!;
  return ctx.cluster.nodes.find((n) => n.nodeId === next.id)!.name;
}

/**
 * Runs `body` with `node`'s ServiceStartCommand replaced by `argv` (its listener restarted to
 * read it); the fake VMmanager's command and the listener come back afterwards, whatever happens.
 */
async function withServiceStart(ctx: ScenarioContext, node: string, argv: string, body: () => Promise<void>): Promise<void> {
  const listener = ctx.listeners.get(node)!;
  const file = listener.hostPath('vmmgrConf');
  const original = fs.readFileSync(file, 'utf8');
  fs.writeFileSync(file, original.replace(/^ServiceStartCommand .*$/m, `ServiceStartCommand ${argv}`));
  try {
    await listener.kill();
    await listener.start();
    await body();
  } finally {
    fs.writeFileSync(file, original);
    await listener.kill();
    await restore(ctx.cluster, ctx.listeners);
  }
}

/** `node`'s daemon log lines of one event. */
function logEvents(ctx: ScenarioContext, node: string, event: string, sinceMs: number): Array<Record<string, unknown>> {
  return ctx.listeners
    .get(node)!
    .logLines()
    .filter((l) => l['event'] === event && Date.parse(String(l['time'])) >= sinceMs);
}

/**
 * Runs `body` with `node`'s /etc/corosync on a full 1 MiB tmpfs (a copy of its files plus a
 * filler), as the node itself sees it; afterwards the node's corosync.conf as it then is goes
 * back to the real directory and the tmpfs is gone, whatever happens. `view` reads a file
 * of the node's /etc/corosync as the node sees it.
 */
async function withFullEtc(ctx: ScenarioContext, node: string, body: (view: (name: string) => string[] | Buffer) => Promise<void>): Promise<void> {
  const c = ctx.cluster;
  const pid = ctx.listeners.get(node)!.pid;
  if (pid === null) throw new Error(`${node}: no listener`);
  const inNode = `/proc/${pid}/root/etc/corosync`;
  const run = async (argv: string[], mayFail = false) => {
    const r = await c.exec(node, argv, { timeoutMs: 20_000 });
    if (r.code !== 0 && !mayFail) throw new Error(`${argv.join(' ')} in ${node}: ${r.stderr}`);
  };
  await run(['mkdir', '-p', '/run/etc-full']);
  await run(['mount', '-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', '/run/etc-full']);
  await run(['cp', '-a', '/etc/corosync/.', '/run/etc-full/']);
  await run(['dd', 'if=/dev/zero', 'of=/run/etc-full/filler', 'bs=4k'], true); // ends with ENOSPC
  await run(['mount', '--bind', '/run/etc-full', '/etc/corosync']);
  try {
    await body((name) => (name === '' ? fs.readdirSync(inNode).sort() : fs.readFileSync(`${inNode}/${name}`)));
  } finally {
    const current = fs.readFileSync(`${inNode}/corosync.conf`);
    await run(['umount', '/etc/corosync'], true);
    await run(['umount', '/run/etc-full'], true);
    fs.writeFileSync(c.node(node).confPath, current);
  }
}

/** totem.config_version of `node`'s corosync.conf (0 when absent). */
function configVersionOf(ctx: ScenarioContext, node: string): number {
  const m = /^\s*config_version:\s*(\d+)/m.exec(fs.readFileSync(ctx.cluster.node(node).confPath, 'utf8'));
  return m === null ? 0 : Number(m[1]);
}

/**
 * Waits until every node of `nodes` has one config_version above `above`, and returns it. A
 * settled cluster has a master holding the cluster IP, but the master raises its priority only
 * after its ServiceStartCommand, and until then the partition's files are identical at the old
 * version.
 */
async function waitForRaise(ctx: ScenarioContext, nodes: readonly string[], above: number, why: string): Promise<number> {
  return waitUntil(
    `one config_version above ${above} on ${nodes.join(', ')} (${why})`,
    () => {
      const versions = new Set(nodes.map((n) => configVersionOf(ctx, n)));
      const [v] = versions;
      return versions.size === 1 && v! > above ? v : undefined;
    },
    { timeoutMs: CONDITION_WAIT_MS, last: () => nodes.map((n) => `${n}: ${configVersionOf(ctx, n)}`) },
  );
}

/** Cut `node` off, settle, (run `whileCut`,) heal it, settle. */
async function cutAndHeal(ctx: ScenarioContext, node: string, whileCut?: () => Promise<unknown>): Promise<void> {
  ctx.fault();
  await ctx.cluster.cut(node);
  await ctx.settle(`${node} cut off`);
  await whileCut?.();
  ctx.fault();
  await ctx.cluster.heal(node);
  await ctx.settle(`${node} back`);
}

matrix(3, [
  {
    name: 'master link cut',
    body: async (ctx) => {
      const master = ctx.master();
      const base = configVersionOf(ctx, master);
      const others = ctx.cluster.nodes.map((n) => n.name).filter((n) => n !== master);
      await cutAndHeal(ctx, master, () => waitForRaise(ctx, others, base, `${ctx.master()} raised its priority`));
      // Stickiness: the new master raised its priority; the old one must not take the role back.
      expect(ctx.master()).not.toBe(master);
    },
  },
  {
    name: 'slave link cut',
    body: async (ctx) => {
      const master = ctx.master();
      await cutAndHeal(ctx, ctx.slaves()[0]!);
      expect(ctx.master()).toBe(master);
    },
  },
  {
    name: 'corosync SIGKILL on the master',
    body: async (ctx) => {
      const master = ctx.master();
      ctx.fault();
      await ctx.cluster.kill(master);
      await ctx.settle(`corosync killed on ${master}`);
      ctx.fault();
      await startCorosync(ctx.cluster, master);
      await ctx.settle(`corosync restarted on ${master}`);
    },
  },
  {
    name: 'corolistener SIGKILL on the master (no failover)',
    body: async (ctx) => {
      const master = ctx.master();
      const listener = ctx.listeners.get(master)!;
      const starts = callsNamed(listener, 'ServiceStartCommand').length;
      ctx.fault();
      await listener.kill();
      ctx.monitor.setListenerDown(master, true);
      await ctx.settle(`listener killed on ${master}`);
      // Nobody takes over while the master's node is alive in corosync: watch for a while.
      await delay(3_000);
      await ctx.settle(`3 s after the kill on ${master}`);
      ctx.fault();
      await listener.start();
      ctx.monitor.setListenerDown(master, false);
      await ctx.settle(`listener restarted on ${master}`);
      expect(ctx.master()).toBe(master);
      // A plain restart of the master's listener does not start VMmanager a second time.
      expect(callsNamed(listener, 'ServiceStartCommand')).toHaveLength(starts);
    },
  },
  {
    name: '1|1|1 (no quorum anywhere)',
    body: async (ctx) => {
      const names = ctx.cluster.nodes.map((n) => n.name);
      ctx.fault();
      await partition(
        ctx.cluster,
        names.map((n) => [n]),
      );
      await ctx.settle('split into 1|1|1');
      const healed = Date.now();
      ctx.fault();
      await joinPartitions(ctx.cluster);
      await ctx.settle('partitions joined');
      // Every node suspended. When quorum returns, a node nobody restored resumes its own VMs.
      // corosync may re-form in steps (two nodes first): a master formed without a node then
      // restores that node's VMs, and it must not resume them (the monitor checks that). A
      // restore counts from the moment the node's VMs were last suspended, which may be in the
      // previous scenario (its corosync killed, restored by the new master, then this split).
      const suspendedSince = (n: string): number => {
        const calls = ctx.listeners
          .get(n)!
          .calls()
          .filter((c) => c.ms < healed);
        const lastResume = Math.max(0, ...calls.filter((c) => c.name === 'VmResumeCommand').map((c) => c.ms));
        return Math.min(healed, ...calls.filter((c) => c.name === 'VmSuspendCommand' && c.ms >= lastResume).map((c) => c.ms));
      };
      const restoredElsewhere = (n: string): boolean =>
        [...ctx.listeners.values()].some(
          (l) =>
            l.node.name !== n &&
            l
              .calls()
              .some(
                (c) =>
                  c.ms >= suspendedSince(n) &&
                  ['ServiceStartCommand', 'NodeFailedCommand'].includes(c.name) &&
                  (c.env['COROLISTENER_FAILED_NODES'] ?? '').split(',').includes(String(ctx.cluster.node(n).nodeId)),
              ),
        );
      for (const n of names) {
        const l = ctx.listeners.get(n)!;
        expect(callsNamed(l, 'VmSuspendCommand').length).toBeGreaterThan(0);
        await waitUntil(`${n} resumes its VMs after quorum returns (or was restored elsewhere)`, () => callsNamed(l, 'VmResumeCommand', healed).length > 0 || restoredElsewhere(n), {
          timeoutMs: CONDITION_WAIT_MS,
        });
      }
    },
  },
  {
    name: `flapping slave link (${FLAPS.cuts} cuts in ${FLAPS.periodMs / 1000} s)`,
    body: (ctx) => flapLink(ctx, ctx.slaves()[0]!),
  },
  {
    name: 'flapping master link',
    body: (ctx) => flapLink(ctx, ctx.master()),
  },
  {
    name: 'corosync restarted on every node in turn',
    body: async (ctx) => {
      for (const n of ctx.cluster.nodes.map((x) => x.name)) {
        ctx.fault();
        await ctx.cluster.stop(n);
        await ctx.settle(`corosync stopped on ${n}`);
        ctx.fault();
        await startCorosync(ctx.cluster, n);
        await ctx.settle(`corosync started on ${n}`);
      }
    },
  },
  {
    name: 'ServiceStartCommand fails on the new master (retried; later decisions not blocked)',
    body: async (ctx) => {
      const master = ctx.master();
      const next = await nextMaster(ctx);
      await withServiceStart(ctx, next, '/bin/false', async () => {
        await ctx.settle(`${next} restarted with a failing ServiceStartCommand`);
        const since = Date.now();
        ctx.fault();
        await ctx.cluster.cut(master);
        await ctx.settle(`${master} cut off; ${next} takes over with a failing start`);
        expect(ctx.master()).toBe(next);
        await waitUntil(`${next} retries the failing start`, () => logEvents(ctx, next, 'step-retry', since).some((l) => l['effect'] === 'startService'), { timeoutMs: CONDITION_WAIT_MS });
        // A later decision still runs: losing quorum suspends at once.
        ctx.fault();
        await ctx.cluster.cut(next);
        await ctx.settle(`${next} cut off too (no quorum anywhere)`);
        ctx.fault();
        await Promise.all([ctx.cluster.heal(master), ctx.cluster.heal(next)]);
        await ctx.settle('both back');
      });
    },
  },
  {
    name: 'ServiceStartCommand hangs on the new master (later decisions not blocked)',
    body: async (ctx) => {
      const master = ctx.master();
      const next = await nextMaster(ctx);
      await withServiceStart(ctx, next, '/bin/sleep 3600', async () => {
        await ctx.settle(`${next} restarted with a hanging ServiceStartCommand`);
        ctx.fault();
        await ctx.cluster.cut(master);
        await ctx.settle(`${master} cut off; ${next} takes over, its start hangs`);
        expect(ctx.master()).toBe(next);
        // The start is still hanging: quorum loss must not wait for it (nor for its 120 s timeout).
        ctx.fault();
        await ctx.cluster.cut(next);
        const settleMs = await ctx.settle(`${next} cut off while its start hangs`);
        expect(settleMs).toBeLessThan(90_000); // the hanging start's timeout is 120 s
        ctx.fault();
        await Promise.all([ctx.cluster.heal(master), ctx.cluster.heal(next)]);
        await ctx.settle('both back');
      });
    },
  },
  {
    name: 'disk full while the new master writes corosync.conf',
    body: async (ctx) => {
      const master = ctx.master();
      const next = await nextMaster(ctx);
      await withFullEtc(ctx, next, async (view) => {
        const before = view('corosync.conf') as Buffer;
        const files = view('') as string[];
        const since = Date.now();
        ctx.fault();
        await ctx.cluster.cut(master);
        await ctx.settle(`${master} cut off; ${next} takes over on a full /etc/corosync`);
        expect(ctx.master()).toBe(next);
        await waitUntil(
          `${next} fails to raise its priority (no space)`,
          () =>
            logEvents(ctx, next, 'step-retry', since)
              .concat(logEvents(ctx, next, 'step', since))
              .some((l) => l['effect'] === 'raisePriority' && /ENOSPC|no space/i.test(JSON.stringify(l))),
          { timeoutMs: CONDITION_WAIT_MS },
        );
        // Nothing torn, nothing half-written, no temp file left behind.
        expect(view('corosync.conf')).toEqual(before);
        expect(view('')).toEqual(files);
        ctx.fault();
        await ctx.cluster.heal(master);
        await ctx.settle(`${master} back while ${next}'s disk is still full`);
      });
    },
  },
]);

/**
 * Two takeovers in quick succession (issue 6, racing changes): the new master writes its raised
 * priority and is cut off before its offer reaches anyone, and the next node takes over. To
 * hit that window every time, the new master's ServiceStartCommand (the step just before
 * raisePriority) records the call as usual and then waits for a go file; the test freezes the
 * node's corosync (SIGSTOP: neither a reload nor a CPG offer can leave), lets the start finish,
 * waits for the raised file, cuts the node's link and thaws corosync.
 */
async function cutRightAfterRaise(ctx: ScenarioContext): Promise<void> {
  const master = ctx.master();
  const next = await nextMaster(ctx);
  const listener = ctx.listeners.get(next)!;
  const conf = fs.readFileSync(listener.hostPath('vmmgrConf'), 'utf8');
  const start = /^ServiceStartCommand (.*)$/m.exec(conf)![1]!;
  const dir = listener.hostPath('dir');
  const go = `${dir}/go`;
  fs.rmSync(go, { force: true });
  // As the node sees it: /run/corolistener is its listener directory. No shell in the daemon:
  // vmmgr.conf splits the command into argv; the script is a file run by /bin/sh.
  fs.writeFileSync(`${dir}/start-then-wait.sh`, `${start}\nstatus=$?\ni=0\nwhile [ ! -e ${LISTENER_FILES.dir}/go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done\nexit $status\n`);
  const base = configVersionOf(ctx, master);
  await withServiceStart(ctx, next, `/bin/sh ${LISTENER_FILES.dir}/start-then-wait.sh`, async () => {
    await ctx.settle(`${next} restarted with a start that waits for the test`);
    const since = Date.now();
    ctx.fault();
    await ctx.cluster.cut(master);
    await waitUntil(`${next} takes over (ServiceStartCommand)`, () => callsNamed(listener, 'ServiceStartCommand', since).length > 0, { timeoutMs: CONDITION_WAIT_MS });
    const pid = ctx.cluster.corosyncPid(next)!;
    ctx.monitor.setListenerDown(next, true); // its daemon may block on corosync meanwhile
    process.kill(pid, 'SIGSTOP');
    try {
      fs.writeFileSync(go, '');
      await waitUntil(`${next} writes its raised priority (config_version ${base + 1})`, () => configVersionOf(ctx, next) === base + 1, { timeoutMs: CONDITION_WAIT_MS });
      await ctx.cluster.cut(next);
    } finally {
      process.kill(pid, 'SIGCONT');
      fs.rmSync(go, { force: true });
    }
    ctx.monitor.setListenerDown(next, false);
    await ctx.settle(`${master} and ${next} cut off, ${next} right after writing version ${base + 1}`);
    const third = ctx.master();
    expect([master, next]).not.toContain(third);
    // The third master had elected `next` before: it knows base + 1 may exist and skips it.
    const majority = ctx.cluster.nodes.map((n) => n.name).filter((n) => n !== master && n !== next);
    expect(await waitForRaise(ctx, majority, base, `${third} raised its priority`)).toBe(base + 2);
    expect(configVersionOf(ctx, next)).toBe(base + 1);
    expect(logEvents(ctx, third, 'decision', since).some((l) => /skipping \d+, which node \d+ may have written/.test(String(l['explanation'])))).toBe(true);
    ctx.fault();
    await Promise.all([ctx.cluster.heal(master), ctx.cluster.heal(next)]);
    await ctx.settle(`${master} and ${next} back`);
    // No preemption, and the files agree (the monitor checks identical files once settled).
    expect(ctx.master()).toBe(third);
    expect(configVersionOf(ctx, next)).toBe(base + 2);
  });
}

matrix(5, [
  {
    name: 'the new master cut right after its raise, before its offer (two takeovers in quick succession)',
    body: cutRightAfterRaise,
  },
  {
    name: '3|2 split, master in the minority',
    body: async (ctx) => {
      const master = ctx.master();
      const minority = [master, ctx.slaves()[0]!];
      const majority = ctx.cluster.nodes.map((n) => n.name).filter((n) => !minority.includes(n));
      ctx.fault();
      await partition(ctx.cluster, [majority, minority]);
      await ctx.settle('split 3|2');
      expect(majority).toContain(ctx.master());
      ctx.fault();
      await joinPartitions(ctx.cluster);
      await ctx.settle('partitions joined');
    },
  },
  {
    name: '2|2|1 split',
    body: async (ctx) => {
      const [a, b, c, d, e] = ctx.cluster.nodes.map((n) => n.name);
      ctx.fault();
      await partition(ctx.cluster, [[a!, b!], [c!, d!], [e!]]);
      await ctx.settle('split 2|2|1');
      ctx.fault();
      await joinPartitions(ctx.cluster);
      await ctx.settle('partitions joined');
    },
  },
  {
    name: 'two failures at once (master link cut + corosync SIGKILL on a slave)',
    body: async (ctx) => {
      const master = ctx.master();
      const slave = ctx.slaves()[0]!;
      ctx.fault();
      await Promise.all([ctx.cluster.cut(master), ctx.cluster.kill(slave)]);
      await ctx.settle(`${master} cut off and corosync killed on ${slave}`);
      ctx.fault();
      await Promise.all([ctx.cluster.heal(master), startCorosync(ctx.cluster, slave)]);
      await ctx.settle('both repaired');
    },
  },
]);
