import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/cluster/envelope';
import { FAILURE_RECORDS } from '../../../src/cluster/messages';
import { queryDaemon } from '../../../src/daemon/control-socket';
import { Corolistener, type ConfigPublisher, type DecisionEvent } from '../../../src/daemon/corolistener';
import { parseNodeListReport } from '../../../src/daemon/report';
import type { Role } from '../../../src/engine/types';
import { captureLogger, FakeCorosync, ManualClock, RecordingActions, testDirs, type NodeConf, type TestDirs } from './fakes';

const NODES: NodeConf[] = [
  { id: 2, prio: 99 },
  { id: 4, prio: 100 },
  { id: 8, prio: 98 },
];

let dirs: TestDirs | undefined;
let daemon: Corolistener | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  dirs?.cleanup();
  dirs = undefined;
});

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

async function startDaemon(localNodeId: number, opts: { nodes?: NodeConf[]; socket?: boolean; reuse?: TestDirs; actions?: RecordingActions } = {}): Promise<Harness> {
  dirs = opts.reuse ?? testDirs(opts.nodes ?? NODES);
  const corosync = new FakeCorosync(localNodeId);
  for (const n of opts.nodes ?? NODES) corosync.versions[n.id] = 1;
  const actions = opts.actions ?? new RecordingActions();
  const clock = new ManualClock();
  const { logger, lines } = captureLogger();
  const published: number[] = [];
  const publisher: ConfigPublisher = { publish: async ({ configVersion }) => void published.push(configVersion) };
  daemon = new Corolistener({
    corosyncConf: dirs.corosyncConf,
    vmmgrConf: dirs.vmmgrConf,
    stateDir: dirs.stateDir,
    socket: opts.socket ? join(dirs.root, 'ctl.sock') : undefined,
    logger,
    corosync,
    actions,
    clock,
    configPublisher: publisher,
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    reconnect: { initialMs: 200, maxMs: 1600 },
    corosyncCheck: 'off',
  });
  const decisions: DecisionEvent[] = [];
  const roles: Role[] = [];
  daemon.on('decision', (d) => decisions.push(d));
  daemon.on('role', ({ role }) => roles.push(role));
  await daemon.start();
  return { daemon, corosync, actions, clock, lines, decisions, roles, published, dirs };
}

function persisted(h: Harness): Record<string, unknown> {
  return JSON.parse(readFileSync(join(h.dirs.stateDir, 'state.json'), 'utf8'));
}

describe('Corolistener', () => {
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
    const decision = h.lines.find((l) => l.event === 'decision' && l.role === 'master');
    expect(decision).toMatchObject({ master: 4, members: [2, 4, 8], quorate: true });
    expect(decision!.effects).toContain('startService');
    const step = h.lines.find((l) => l.event === 'step' && l.effect === 'startService');
    expect(step).toMatchObject({ outcome: 'ok', attempts: 1 });
    expect(typeof step!.durationMs).toBe('number');
  });
});
