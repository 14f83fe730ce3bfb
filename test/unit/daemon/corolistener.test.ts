import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RetryOptions } from '../../../src/actions/retry';
import { encodeMessage } from '../../../src/cluster/envelope';
import { FAILURE_RECORDS } from '../../../src/cluster/messages';
import { queryDaemon } from '../../../src/daemon/control-socket';
import { Corolistener } from '../../../src/daemon/corolistener';
import type { ConfigPublisher } from '../../../src/cluster/publisher-port';
import type { DecisionEvent } from '../../../src/daemon/ports';
import { parseNodeListReport } from '../../../src/daemon/report';
import type { Role } from '../../../src/engine/types';
import { captureLogger, corosyncConfText, DOC_EXAMPLE_NODES, FakeCorosync, FakeLink, ManualClock, RecordingActions, testDirs, type NodeConf, daemonPerTest, type TestDirs } from './fakes';

const NODES = DOC_EXAMPLE_NODES;

const t = daemonPerTest();

interface Harness {
  daemon: Corolistener;
  corosync: FakeCorosync;
  actions: RecordingActions;
  clock: ManualClock;
  lines: Array<Record<string, unknown>>;
  decisions: DecisionEvent[];
  roles: Role[];
  published: number[];
  dirs: TestDirs;
}

async function startDaemon(
  localNodeId: number,
  opts: { nodes?: readonly NodeConf[]; socket?: boolean; reuse?: TestDirs; actions?: RecordingActions; retry?: RetryOptions; linkMonitor?: FakeLink } = {},
): Promise<Harness> {
  t.dirs = opts.reuse ?? testDirs(opts.nodes ?? NODES);
  const corosync = new FakeCorosync(localNodeId);
  for (const n of opts.nodes ?? NODES) corosync.versions[n.id] = 1;
  const actions = opts.actions ?? new RecordingActions();
  const clock = new ManualClock();
  const { logger, lines } = captureLogger();
  const published: number[] = [];
  const publisher: ConfigPublisher = { publish: async ({ configVersion }) => void published.push(configVersion) };
  t.daemon = new Corolistener({
    corosyncConf: t.dirs.corosyncConf,
    vmmgrConf: t.dirs.vmmgrConf,
    stateDir: t.dirs.stateDir,
    socket: opts.socket ? join(t.dirs.root, 'ctl.sock') : undefined,
    logger,
    corosync,
    actions,
    clock,
    configPublisher: publisher,
    retry: opts.retry ?? { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    reconnect: { initialMs: 200, maxMs: 1600 },
    corosyncCheck: 'off',
    linkMonitor: opts.linkMonitor,
  });
  const decisions: DecisionEvent[] = [];
  const roles: Role[] = [];
  t.daemon.on('decision', (d) => decisions.push(d));
  t.daemon.on('role', ({ role }) => roles.push(role));
  await t.daemon.start();
  return { daemon: t.daemon, corosync, actions, clock, lines, decisions, roles, published, dirs: t.dirs };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A daemon with a fake link monitor, settled in a quorate membership of 2, 4 and 8. */
async function settledWithLink(localNodeId: number): Promise<{ h: Harness; actions: RecordingActions; link: FakeLink }> {
  const actions = new RecordingActions();
  const link = new FakeLink('vmbr0');
  const h = await startDaemon(localNodeId, { actions, linkMonitor: link });
  h.corosync.session.quorum(true, [2, 4, 8], 10);
  await h.daemon.settled();
  return { h, actions, link };
}

/** addClusterIp is waiting for corosync to confirm the membership after the carrier came back. */
function waitsForConfirmation(h: Harness): boolean {
  return h.lines.some((l) => l.event === 'step-retry' && /waiting for corosync to confirm/.test(String(l.error)));
}

function persisted(h: Harness): Record<string, unknown> {
  return JSON.parse(readFileSync(join(h.dirs.stateDir, 'state.json'), 'utf8'));
}

describe('Corolistener', () => {
  it('logs the warnings of both configuration files at start (and starts)', async () => {
    const reuse = testDirs(NODES, 'CloudIp 198.18.0.100\ncloudmask 24\n');
    writeFileSync(reuse.corosyncConf, readFileSync(reuse.corosyncConf, 'utf8').replace(`expected_votes: ${NODES.length}`, 'expected_votes: 9'));
    const h = await startDaemon(4, { reuse });
    const warned = h.lines.filter((l) => l.level === 40 && /^warning: /.test(String(l.msg)));
    expect(warned.map((l) => [l.event, l.field])).toEqual([
      ['vmmgr-conf', 'cloudmask'],
      ['corosync-conf', 'quorum.expected_votes'],
    ]);
    expect(String(warned[0]!.msg)).toBe(`warning: ${reuse.vmmgrConf}:2:1: cloudmask: unknown directive, ignored: names are case-sensitive; did you mean CloudMask?`);
  });

  it('a takeover plan gets its cluster IP checks prepared before any effect; other plans do not', async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    // Once, when the takeover was submitted, before the first effect (the state is written ahead).
    expect(h.actions.prepared).toEqual([0]);
    expect(h.actions.names()).toEqual(['removeStaleRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService']);
    // Losing quorum (stepping down) prepares nothing.
    h.corosync.session.quorum(false, [4], 11);
    await h.daemon.settled();
    expect(h.actions.names()).toContain('removeClusterIp');
    expect(h.actions.prepared).toEqual([0]);
  });

  it('starts as master: executes the takeover in order, raises its priority, persists the state', async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(h.actions.names()).toEqual(['removeStaleRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService']);
    expect(h.actions.calls[3]!.ctx).toMatchObject({ role: 'master', nodeId: 4, clusterIp: '198.18.0.100', ihttpdPort: 1500, failedNodes: [] });
    expect(h.roles).toEqual(['master']);
    expect(h.daemon.role).toBe('master');
    // the records went out over CPG before VMmanager was started
    expect(h.corosync.session.sent.length).toBeGreaterThan(0);
    // already above every other node: corosync.conf stays as it is
    expect(readFileSync(h.dirs.corosyncConf, 'utf8')).toMatch(/config_version: 1\n/);
    expect(h.published).toEqual([]);
    expect(persisted(h)).toMatchObject({ lastRole: 'master', ringId: { nodeId: 2, seq: 10 } });
    // a slave leaving later is reported failed: NodeFailedCommand with the context, and the event
    const failed: Array<{ nodeIds: number[]; atTakeover: boolean }> = [];
    h.daemon.on('nodesFailed', (e) => failed.push(e));
    h.corosync.session.quorum(true, [2, 4], 11);
    await h.daemon.settled();
    expect(failed).toEqual([{ nodeIds: [8], atTakeover: false }]);
    expect(h.actions.calls.find((c) => c.name === 'nodeFailed')!.ctx).toMatchObject({ role: 'master', failedNodes: [8] });
    const decision = h.lines.find((l) => l.event === 'decision' && l.role === 'master');
    expect(decision).toMatchObject({ master: 4, members: [2, 4, 8], quorate: true });
    expect(decision!.effects).toContain('startService');
    const step = h.lines.find((l) => l.event === 'step' && l.effect === 'startService');
    expect(step).toMatchObject({ outcome: 'ok', attempts: 1 });
    expect(typeof step!.durationMs).toBe('number');
  });

  it('takes over when the master leaves: failed nodes in the context, priority raised, config published', async () => {
    const h = await startDaemon(2);
    const failed: Array<{ nodeIds: number[]; atTakeover: boolean }> = [];
    h.daemon.on('nodesFailed', (e) => failed.push(e));
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('slave');
    // slave with no history: makes sure none of the master's effects are held here
    expect(h.actions.names()).toEqual(['removeClusterIp', 'stopService', 'removeServiceLock', 'removeStaleRelocatedLock']);
    h.actions.calls.length = 0;
    h.corosync.session.quorum(true, [2, 8], 11);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('master');
    expect(h.actions.names()).toEqual(['removeStaleRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService']);
    expect(h.actions.calls[3]!.ctx).toMatchObject({ role: 'master', nodeId: 2, failedNodes: [4] });
    const conf = readFileSync(h.dirs.corosyncConf, 'utf8');
    expect(conf).toMatch(/config_version: 2\n/);
    expect(conf).toMatch(/nodeid: 2\n {4}prio: 101\n/);
    expect(h.published).toEqual([2]);
    expect(h.corosync.session.reloads).toBe(1);
    // The old master is reported once, with the takeover, after VMmanager was started with it;
    // NodeFailedCommand does not run for it (VMmanager restores it from COROLISTENER_FAILED_NODES).
    expect(failed).toEqual([{ nodeIds: [4], atTakeover: true }]);
    expect(h.actions.names()).not.toContain('nodeFailed');
  });

  it("a takeover's failed nodes are emitted once: not again when a restarted daemon skips the start", async () => {
    const h1 = await startDaemon(4);
    const first: Array<{ nodeIds: number[]; atTakeover: boolean }> = [];
    h1.daemon.on('nodesFailed', (e) => first.push(e));
    h1.corosync.session.quorum(true, [2, 4], 10);
    await h1.daemon.settled();
    expect(h1.actions.calls.find((c) => c.name === 'startService')!.ctx).toMatchObject({ failedNodes: [8] });
    expect(first).toEqual([{ nodeIds: [8], atTakeover: true }]);
    expect(h1.actions.names()).not.toContain('nodeFailed');
    await h1.daemon.stop();
    t.daemon = undefined;
    const h2 = await startDaemon(4, { reuse: h1.dirs });
    const second: unknown[] = [];
    h2.daemon.on('nodesFailed', (e) => second.push(e));
    h2.corosync.session.quorum(true, [2, 4], 10);
    await h2.daemon.settled();
    expect(h2.daemon.role).toBe('master');
    expect(h2.lines.some((l) => l.event === 'start-service-skipped')).toBe(true);
    expect(second).toEqual([]);
  });

  it('quorum lost: tears the master down, suspends the VMs and feeds the result back', async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    h.actions.calls.length = 0;
    h.corosync.session.quorum(false, [4], 11);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('suspended');
    expect(h.roles).toEqual(['master', 'suspended']);
    expect(h.actions.names()).toEqual(['removeClusterIp', 'stopService', 'removeServiceLock', 'removeStaleRelocatedLock', 'suspendVms']);
    // the result came back as an event: the engine now knows which VMs it suspended
    expect(h.lines.some((l) => l.event === 'decision' && l.trigger === 'vmsSuspended')).toBe(true);
    expect(persisted(h)).toMatchObject({ lastRole: 'suspended', suspendedVms: ['vm1', 'vm2'], suspendsPending: 0, suspendedAfterSeq: 10 });
  });

  it('an empty suspend result is fed back too', async () => {
    const actions = new RecordingActions();
    actions.running = [];
    const h = await startDaemon(8, { actions });
    h.corosync.session.quorum(false, [8], 10);
    await h.daemon.settled();
    expect(h.actions.names()).toContain('suspendVms');
    const fedBack = h.lines.filter((l) => l.event === 'decision' && l.trigger === 'vmsSuspended');
    expect(fedBack).toHaveLength(1);
    expect(fedBack[0]!.role).toBe('suspended');
  });

  it('corosync going away: suspended at once, handles closed, reconnects with backoff, fresh state after', async () => {
    const h = await startDaemon(4);
    const first = h.corosync.session;
    first.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    h.actions.calls.length = 0;
    h.corosync.up = false;
    first.disconnect();
    await h.daemon.settled();
    expect(first.closed).toBe(true);
    expect(h.daemon.role).toBe('suspended');
    expect(h.actions.names()).toEqual(['removeClusterIp', 'stopService', 'removeServiceLock', 'removeStaleRelocatedLock', 'suspendVms']);
    expect(h.lines.some((l) => l.event === 'decision' && l.trigger === 'disconnected')).toBe(true);
    // backoff: 200, 400, 800, 1600, 1600 ms ... and the daemon never gives up
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      delays.push(h.clock.pending()[0]!);
      h.clock.advance(h.clock.pending()[0]!);
    }
    expect(delays).toEqual([200, 400, 800, 1600, 1600, 1600]);
    expect(h.corosync.attempts).toBe(7);
    // an event of the closed session is ignored
    first.quorum(true, [2, 4, 8], 10);
    expect(h.daemon.role).toBe('suspended');
    h.corosync.up = true;
    h.clock.advance(1600);
    expect(h.corosync.sessions).toHaveLength(2);
    h.corosync.session.quorum(true, [2, 4, 8], 12);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('master');
    // a later disconnect starts again from 200 ms
    h.corosync.session.disconnect();
    expect(h.clock.pending()).toEqual([200]);
  });

  it('a restart from a persisted master state does not repeat the takeover', async () => {
    const h1 = await startDaemon(4);
    h1.corosync.session.quorum(true, [2, 4, 8], 10);
    await h1.daemon.settled();
    expect(h1.actions.names().filter((n) => n === 'startService')).toHaveLength(1);
    await h1.daemon.stop();
    t.daemon = undefined;
    // stopping leaves the role's effects alone
    expect(h1.actions.names()).not.toContain('stopService');
    const actions = new RecordingActions();
    const h2 = await startDaemon(4, { reuse: h1.dirs, actions });
    h2.corosync.session.quorum(true, [2, 4, 8], 10);
    await h2.daemon.settled();
    expect(h2.daemon.role).toBe('master');
    expect(actions.names()).not.toContain('startService');
    expect(actions.names()).not.toContain('removeStaleRelocatedLock');
    expect(actions.names()).toEqual(['addClusterIp', 'createServiceLock']);
    expect(h2.lines.some((l) => l.event === 'start-service-skipped')).toBe(true);
  });

  it('a corrupt state file is quarantined and logged; the daemon starts with no history', async () => {
    t.dirs = testDirs(NODES);
    writeFileSync(join(t.dirs.stateDir, 'state.json'), '{"lastRole": "mas');
    const h = await startDaemon(8, { reuse: t.dirs });
    const error = h.lines.find((l) => l.event === 'state-file');
    expect(error).toMatchObject({ level: 50 });
    expect(String(error!.movedTo)).toMatch(/state\.json\.corrupt-/);
    expect(readFileSync(String(error!.movedTo), 'utf8')).toBe('{"lastRole": "mas');
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('slave');
    expect(persisted(h)).toMatchObject({ lastRole: 'slave' });
  });

  it('corosync.conf changes (cmap track) are re-read and decided on; an invalid file keeps the last good view', async () => {
    const h = await startDaemon(8);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(h.daemon.nodeListReport().masterNodeId).toBe(4);
    // the operator makes node 4 ineligible; corosync reloads and cmap reports the change
    writeFileSync(
      h.dirs.corosyncConf,
      corosyncConfText(
        [
          { id: 2, prio: 99 },
          { id: 4, prio: 100, replication: 'off' },
          { id: 8, prio: 98 },
        ],
        1,
      ),
    );
    for (let i = 0; i < 5; i++) h.corosync.session.handlers.onConfigChanged();
    await until(() => h.daemon.nodeListReport().masterNodeId === 2, 2_000);
    const reads = h.lines.filter((l) => l.event === 'decision' && l.trigger === 'config').length;
    expect(reads).toBeLessThanOrEqual(4); // connect: the view fed + a re-read; then coalesced re-reads, not one per cmap key (5)
    writeFileSync(h.dirs.corosyncConf, 'totem {\n  config_version: x\n}\n');
    h.corosync.session.handlers.onConfigChanged();
    await until(() => h.lines.some((l) => l.event === 'corosync-conf'), 2_000);
    expect(h.lines.find((l) => l.event === 'corosync-conf')).toMatchObject({ level: 50 });
    expect(h.daemon.nodeListReport().masterNodeId).toBe(2);
    expect(h.daemon.nodeListReport().nodes[1]).toMatchObject({ id: 4, replication: false });
  });

  it('a member with a newer config_version than our table makes us re-read corosync.conf (replaced without a cmap change we track)', async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(h.daemon.nodeListReport().masterNodeId).toBe(4);
    // `config sync` (or a pushed file) replaced the file: node 2 raised to 101, version 2
    writeFileSync(
      h.dirs.corosyncConf,
      corosyncConfText(
        [
          { id: 2, prio: 101 },
          { id: 4, prio: 100 },
          { id: 8, prio: 98 },
        ],
        2,
      ),
    );
    h.corosync.session.handlers.onMemberVersions({ 2: 2, 4: 2, 8: 2 });
    await until(() => h.daemon.nodeListReport().masterNodeId === 2, 2_000);
    expect(h.daemon.role).toBe('slave');
  });

  it('a state file of the wrong shape is quarantined too (never used half-checked)', async () => {
    t.dirs = testDirs(NODES);
    const bad = JSON.stringify({ lastRole: 'boss', ringId: null, lastQuorateSeq: null, suspendedVms: [], suspendedAfterSeq: null, suspendsPending: 0, failureRecords: {} });
    writeFileSync(join(t.dirs.stateDir, 'state.json'), bad);
    const h = await startDaemon(4, { reuse: t.dirs });
    const error = h.lines.find((l) => l.event === 'state-file');
    expect(String(error!.error)).toMatch(/state\.json: invalid state: lastRole must be one of master, slave, suspended, unknown/);
    expect(h.lines.find((l) => l.event === 'engine')).toMatchObject({ restoredRole: null });
  });

  it('a failing step is retried with backoff and logged; it does not block a newer decision', async () => {
    const actions = new RecordingActions();
    actions.failures.startService = 1;
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    expect(actions.names().filter((n) => n === 'startService')).toHaveLength(2);
    expect(h.lines.some((l) => l.event === 'step-retry' && l.effect === 'startService')).toBe(true);
    expect(h.lines.find((l) => l.event === 'step' && l.effect === 'startService')).toMatchObject({ outcome: 'ok', attempts: 2 });
  });

  it('a step waiting in its retry backoff does not delay a newer decision', async () => {
    const actions = new RecordingActions();
    actions.failures.nodeFailed = 100;
    // 60 s between attempts: the test can only finish if the newer plan cuts the wait short
    const h = await startDaemon(4, { actions, retry: { attempts: 5, initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    actions.calls.length = 0;
    h.corosync.session.quorum(true, [4, 8], 11); // node 2 left: reportNodesFailed -> NodeFailedCommand fails
    await until(() => h.lines.some((l) => l.event === 'step-retry' && l.effect === 'reportNodesFailed'), 3_000);
    h.corosync.session.quorum(false, [4], 12);
    await until(() => actions.names().includes('suspendVms'), 3_000);
    expect(h.daemon.role).toBe('suspended');
    // the teardown ran first; the failing NodeFailedCommand is still owed and tried again after it
    expect(actions.names().slice(0, 6)).toEqual(['nodeFailed', 'removeClusterIp', 'stopService', 'removeServiceLock', 'removeStaleRelocatedLock', 'suspendVms']);
    await until(() => actions.names().filter((n) => n === 'nodeFailed').length === 2, 3_000);
  });

  it('quorum lost while ServiceStartCommand hangs: the hung start is cancelled and the cluster IP dropped at once', async () => {
    const actions = new RecordingActions();
    let startAborted = false;
    // ServiceStartCommand that never ends by itself (only its signal stops it).
    actions.startService = (_ctx: unknown, signal?: AbortSignal) => {
      actions.calls.push({ name: 'startService' });
      return new Promise<void>((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          startAborted = true;
          reject(new Error('killed'));
        });
      });
    };
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => actions.names().includes('startService'), 3_000);
    h.corosync.session.quorum(false, [4], 11);
    await until(() => actions.names().includes('suspendVms'), 3_000);
    expect(startAborted).toBe(true);
    expect(h.daemon.role).toBe('suspended');
    const after = actions.names().slice(actions.names().indexOf('startService') + 1);
    expect(after.slice(0, 2)).toEqual(['removeClusterIp', 'stopService']);
  });

  it('a refused cluster IP is retried for as long as the node is master; VMmanager starts only once it is held', async () => {
    const actions = new RecordingActions();
    actions.failures.addClusterIp = 6; // more than the ordinary 3 attempts
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => actions.names().includes('startService'), 5_000);
    const names = actions.names();
    expect(names.filter((n) => n === 'addClusterIp')).toHaveLength(7);
    expect(names.indexOf('createServiceLock')).toBeGreaterThan(names.lastIndexOf('addClusterIp'));
    expect(h.lines.filter((l) => l.event === 'step-retry' && l.effect === 'addClusterIp')).toHaveLength(6);
  });

  it('a cluster IP refused until the node steps down never lets VMmanager start, and the retries stop', async () => {
    const actions = new RecordingActions();
    actions.failures.addClusterIp = 1_000_000;
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => actions.names().filter((n) => n === 'addClusterIp').length >= 4, 5_000);
    h.corosync.session.quorum(false, [4], 11);
    await h.daemon.settled();
    const attempts = actions.names().filter((n) => n === 'addClusterIp').length;
    await new Promise((r) => setTimeout(r, 200));
    expect(actions.names().filter((n) => n === 'addClusterIp')).toHaveLength(attempts);
    expect(actions.names()).not.toContain('startService');
    expect(actions.names()).not.toContain('createServiceLock');
    expect(h.daemon.role).toBe('suspended');
  });

  it.each([
    { first: 'fails', attempts: 2 },
    { first: 'succeeds', attempts: 1 },
  ])('a step in flight when a newer plan arrives is repeated only if it fails (it $first)', async ({ first, attempts }) => {
    const actions = new RecordingActions();
    // The first addClusterIp ends only after a newer (non-role) plan has superseded its plan:
    // a failure can then no longer be retried within that plan, so the newer plan carries it.
    let release: (() => void) | undefined;
    const original = actions.addClusterIp;
    let calls = 0;
    actions.addClusterIp = async () => {
      if (++calls > 1) return original();
      actions.calls.push({ name: 'addClusterIp' });
      await new Promise<void>((r) => (release = r));
      if (first === 'fails') throw new Error('address in use (first attempt)');
    };
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => release !== undefined, 3_000);
    h.corosync.session.quorum(true, [2, 4, 8], 11); // a new ring, same role: a plan with no role steps
    await new Promise((r) => setTimeout(r, 50));
    release!();
    await until(() => actions.names().includes('startService'), 5_000);
    await h.daemon.settled();
    const names = actions.names();
    expect(names.filter((n) => n === 'addClusterIp')).toHaveLength(attempts);
    expect(names.indexOf('createServiceLock')).toBeGreaterThan(names.lastIndexOf('addClusterIp'));
  });

  it('a step in flight through two newer plans still runs once when it succeeds (the second plan keeps the link to the attempt in flight)', async () => {
    const actions = new RecordingActions();
    let release: (() => void) | undefined;
    const original = actions.addClusterIp;
    let calls = 0;
    actions.addClusterIp = async () => {
      if (++calls > 1) return original();
      actions.calls.push({ name: 'addClusterIp' });
      await new Promise<void>((r) => (release = r));
    };
    const h = await startDaemon(4, { actions });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => release !== undefined, 3_000);
    // Two new rings while the first addClusterIp is in flight: two plans with no role steps.
    h.corosync.session.quorum(true, [2, 4, 8], 11);
    await new Promise((r) => setTimeout(r, 20));
    h.corosync.session.quorum(true, [2, 4, 8], 12);
    await new Promise((r) => setTimeout(r, 20));
    release!();
    await until(() => actions.names().includes('startService'), 5_000);
    await h.daemon.settled();
    expect(actions.names().filter((n) => n === 'addClusterIp')).toHaveLength(1);
  });

  it('carrier lost on the master: the cluster IP goes at once and comes back only with the carrier, after the other owed steps were kept', async () => {
    const { h, actions, link } = await settledWithLink(4);
    expect(actions.names()).toContain('startService');
    const before = actions.names().length;
    link.set(false);
    await until(() => actions.names().slice(before).includes('removeClusterIp'), 3_000);
    // While there is no carrier, addClusterIp is refused without touching the address.
    await until(() => h.lines.filter((l) => l.event === 'step-retry' && l.effect === 'addClusterIp').length >= 2, 3_000);
    expect(actions.names().slice(before)).toEqual(['removeClusterIp']);
    expect(h.daemon.role).toBe('master');
    // Carrier back: not before corosync confirms the membership (a new ring here).
    link.set(true);
    await until(() => waitsForConfirmation(h), 3_000);
    expect(actions.names().slice(before)).toEqual(['removeClusterIp']);
    h.corosync.session.quorum(true, [2, 4, 8], 11);
    await until(() => actions.names().slice(before).includes('addClusterIp'), 3_000);
    await h.daemon.settled();
    expect(actions.names().slice(before)).toEqual(['removeClusterIp', 'addClusterIp']);
    expect(h.lines.filter((l) => l.event === 'link').map((l) => l.carrier)).toEqual([false, true]);
  });

  it("carrier back and no membership change: the cluster IP returns after corosync's failure detection time", async () => {
    const { h, actions, link } = await settledWithLink(4);
    const before = actions.names().length;
    link.set(false);
    link.set(true);
    await until(() => waitsForConfirmation(h), 3_000);
    h.clock.advance(3_999);
    await new Promise((r) => setTimeout(r, 30));
    expect(actions.names().slice(before)).toEqual(['removeClusterIp']);
    h.clock.advance(1); // 4 s: the default when corosync's timeouts are unknown (the fake has none)
    await until(() => actions.names().slice(before).includes('addClusterIp'), 3_000);
  });

  it('carrier lost during a takeover: VMmanager is started only after the cluster IP is back', async () => {
    const actions = new RecordingActions();
    const link = new FakeLink('vmbr0');
    link.set(false);
    const h = await startDaemon(4, { actions, linkMonitor: link });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => h.lines.filter((l) => l.event === 'step-retry' && l.effect === 'addClusterIp').length >= 2, 3_000);
    expect(actions.names()).not.toContain('addClusterIp');
    expect(actions.names()).not.toContain('startService');
    link.set(true);
    await until(() => actions.names().includes('startService'), 3_000);
    expect(actions.names().indexOf('addClusterIp')).toBeLessThan(actions.names().indexOf('startService'));
  });

  it('carrier lost while a step of the master hangs: the cluster IP goes at once, not after the step', async () => {
    const actions = new RecordingActions();
    const link = new FakeLink('vmbr0');
    let release: (() => void) | undefined;
    actions.startService = () => {
      actions.calls.push({ name: 'startService' });
      return new Promise<void>((r) => (release = r));
    };
    const h = await startDaemon(4, { actions, linkMonitor: link });
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await until(() => release !== undefined, 3_000);
    link.set(false);
    await until(() => actions.names().includes('removeClusterIp'), 1_000);
    expect(actions.names().slice(actions.names().indexOf('startService'))).toEqual(['startService', 'removeClusterIp']);
    link.set(true);
    release!();
    await until(() => waitsForConfirmation(h), 3_000);
    h.clock.advance(4_000);
    await h.daemon.settled();
    expect(actions.names().filter((n) => n === 'addClusterIp')).toHaveLength(2);
    expect(actions.names().filter((n) => n === 'startService')).toHaveLength(1);
  });

  it("a listener joining the CPG group gets our failure records again (it missed the ring's broadcast)", async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    const sent = h.corosync.session.sent.length;
    h.corosync.session.handlers.onGroupMembership?.({ members: [2, 4], joined: [4] }); // ourselves: nothing
    await h.daemon.settled();
    expect(h.corosync.session.sent.length).toBe(sent);
    h.corosync.session.handlers.onGroupMembership?.({ members: [2, 4, 8], joined: [8] });
    await h.daemon.settled();
    // The records, and (this node is master) its announcement that it is, for the ordered hand-over (issue 18).
    expect(h.corosync.session.sent.length).toBe(sent + 2);
    expect(h.lines.filter((l) => l.event === 'step' && l.effect === 'broadcastFailureRecords').at(-1)).toMatchObject({ outcome: 'ok' });
    expect(JSON.parse(h.corosync.session.sent.at(-1)!.toString())).toMatchObject({ type: 'handover', body: { phase: 'taken', from: null } });
  });

  it('a slave ignores carrier changes', async () => {
    const { h, actions, link } = await settledWithLink(2);
    const before = actions.names().length;
    link.set(false);
    link.set(true);
    await h.daemon.settled();
    expect(actions.names().slice(before)).toEqual([]);
  });

  it('answers `nodes` and `status` on the control socket from the current state', async () => {
    const h = await startDaemon(4, { socket: true });
    h.corosync.session.quorum(true, [2, 4], 10);
    await h.daemon.settled();
    const sock = join(h.dirs.root, 'ctl.sock');
    const report = parseNodeListReport(await queryDaemon(sock, 'nodes', 2000));
    expect(report).toEqual({
      cluster: { name: 'VMmanager', quorate: true, configVersion: 1, expectedVotes: 3 },
      localNodeId: 4,
      masterNodeId: 4,
      nodes: [
        { id: 2, ip: '198.18.0.2', status: 'joined', role: 'S', priority: 99, replication: true },
        { id: 4, ip: '198.18.0.4', status: 'joined', role: 'M', priority: 100, replication: true },
        { id: 8, ip: '198.18.0.8', status: 'left', role: '-', priority: 98, replication: true },
      ],
    });
    const status = (await queryDaemon(sock, 'status', 2000)) as { daemon: { role: string; corosyncConnected: boolean } };
    expect(status.daemon).toMatchObject({ role: 'master', corosyncConnected: true });
    h.corosync.session.disconnect();
    const after = parseNodeListReport(await queryDaemon(sock, 'nodes', 2000));
    expect(after.cluster.quorate).toBe(false);
    expect(after.masterNodeId).toBeNull();
    expect(after.nodes.map((n) => `${n.status}${n.role}`)).toEqual(['left-', 'left-', 'left-']);
  });

  it('failure records over CPG: received ones reach the engine; a malformed one is rejected and logged', async () => {
    const h = await startDaemon(8);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    const before = persisted(h);
    const ring = { nodeId: 2, seq: 10 };
    h.corosync.session.message(4, encodeMessage(FAILURE_RECORDS, { ringId: ring, records: { 9: 7 } }));
    await h.daemon.settled();
    expect(persisted(h).failureRecords).toEqual({ 9: 7 });
    const decisions = h.decisions.length;
    for (const bad of [
      encodeMessage(FAILURE_RECORDS, { ringId: ring, records: { 9: -1 } }),
      encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 'x', seq: 1 }, records: {} }),
      Buffer.from('not json'),
      encodeMessage('noSuchType', {}),
    ]) {
      h.corosync.session.message(4, bad);
    }
    await h.daemon.settled();
    expect(h.decisions.length).toBe(decisions);
    expect(persisted(h).failureRecords).toEqual({ 9: 7 });
    const rejected = h.lines.filter((l) => l.event === 'message-rejected');
    expect(rejected).toHaveLength(4);
    // The documented line (docs/config-update.md) with the codec's code.
    expect(rejected.map((l) => [l.msg, l.code])).toEqual([
      ['cluster message rejected', 'bad-body'],
      ['cluster message rejected', 'bad-body'],
      ['cluster message rejected', 'not-json'],
      ['cluster message rejected', 'unknown-type'],
    ]);
    expect(rejected[0]).toMatchObject({ from: 4, level: 40 });
    expect(String(rejected[0]!.error)).toMatch(/records\[9\]/);
    void before;
  });

  it("suspended VMs restored elsewhere meanwhile are reported with 'vmsDiscarded', not resumed", async () => {
    const h = await startDaemon(8);
    const discarded: string[][] = [];
    h.daemon.on('vmsDiscarded', ({ vms }) => discarded.push(vms));
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    h.corosync.session.quorum(false, [8], 12);
    await until(() => h.actions.names().includes('suspendVms'), 3_000);
    await h.daemon.settled();
    // Back in a quorate ring whose master reported node 8 failed at ring 12 (after its last quorate ring 10).
    h.corosync.session.quorum(true, [2, 4, 8], 16);
    const ring = { nodeId: 2, seq: 16 };
    for (const from of [2, 4]) h.corosync.session.message(from, encodeMessage(FAILURE_RECORDS, { ringId: ring, records: { 8: 12 } }));
    await until(() => discarded.length > 0, 3_000);
    expect(discarded).toEqual([['vm1', 'vm2']]);
    expect(h.actions.names()).not.toContain('resumeVms');
    expect(h.lines.some((l) => l.event === 'vms-discarded')).toBe(true);
  });

  it('a version claimed by a master elected while we were away arrives with the records: the master writes above it', async () => {
    const h = await startDaemon(4);
    h.corosync.session.quorum(true, [2, 4], 10);
    await h.daemon.settled();
    expect(h.published).toEqual([]); // already the highest: nothing to raise
    // Node 2 saw node 8 elected while we were away; node 8 (gone now) may have written version 2 unseen.
    h.corosync.session.message(2, encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 2, seq: 10 }, records: {}, claim: { by: 8, version: 2 } }));
    await h.daemon.settled();
    expect(h.published).toEqual([3]);
    expect(readFileSync(h.dirs.corosyncConf, 'utf8')).toMatch(/config_version: 3/);
    expect(persisted(h).claimedVersion).toBeNull(); // our file is above it now
  });

  it('raisePriority is written as the engine decided it: prio 0 above a node without prio stays 0', async () => {
    // Node 4 (prio 0) is the only eligible node: node 2 has no prio. The engine keeps prio 0 (it
    // already outranks a node that can never be master) and only writes above a claimed version.
    const h = await startDaemon(4, { nodes: [{ id: 2 }, { id: 4, prio: 0 }, { id: 8 }] });
    h.corosync.session.quorum(true, [2, 4], 10);
    await h.daemon.settled();
    expect(h.daemon.role).toBe('master');
    // Node 2 tells of version 2 claimed for node 8 (away): node 4 writes above it, keeping prio 0.
    h.corosync.session.message(2, encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 2, seq: 10 }, records: {}, claim: { by: 8, version: 2 } }));
    await h.daemon.settled();
    const raise = h.decisions.flatMap((d) => d.effects).find((e) => e.type === 'raisePriority');
    expect(raise).toEqual({ type: 'raisePriority', nodeId: 4, prio: 0, configVersion: 3 });
    const text = readFileSync(h.dirs.corosyncConf, 'utf8');
    expect(text).toMatch(/config_version: 3/);
    expect(text).toMatch(/ring0_addr: 198\.18\.0\.4\n {4}nodeid: 4\n {4}prio: 0\n/);
  });

  it('a takeover waits for its own failure records to come back before starting VMmanager', async () => {
    const h = await startDaemon(2);
    h.corosync.session.quorum(true, [2, 4, 8], 10);
    await h.daemon.settled();
    h.corosync.session.deliverOwn = false;
    h.actions.calls.length = 0;
    h.corosync.session.quorum(true, [2, 8], 11);
    // Up to the lock the plan runs; VMmanager's start waits for the records to come back, however long.
    await until(() => h.actions.names().includes('createServiceLock'), 3_000);
    expect(h.actions.names()).toEqual(['removeStaleRelocatedLock', 'addClusterIp', 'createServiceLock']);
    const sent = h.corosync.session.sent.at(-1)!;
    const body = JSON.parse(sent.toString()).body;
    // fenceWindows: this node has no watchdog (0), so its VMs may be restored at once if it fails.
    expect(body).toEqual({ ringId: { nodeId: 2, seq: 11 }, records: { 4: 11 }, fenceWindows: { 2: 0 } });
    h.corosync.session.deliverOwn = true; // the takeover's announcement (issue 18) comes back by itself
    h.corosync.session.handlers.onMessage({ nodeId: 2, own: true, data: sent });
    await h.daemon.settled();
    expect(h.actions.names()).toEqual(['removeStaleRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService']);
  });
});
