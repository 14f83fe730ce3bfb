// The daemon's self-fencing wiring (issue 15): the engine's safety decides every feed, a hung
// suspend starves the watchdog after quorum loss, a clean stop disarms it, and status and the
// control socket show it all.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/actions/command-context';
import type { SuspendResult } from '../../../src/actions/vm-control';
import type { WatchdogPort } from '../../../src/actions/watchdog';
import { queryDaemon } from '../../../src/daemon/control-socket';
import { Corolistener } from '../../../src/daemon/corolistener';
import { parseStatusWithFencing } from '../../../src/daemon/fencing-report';
import { captureLogger, DOC_EXAMPLE_NODES, FakeCorosync, ManualClock, RecordingActions, testDirs, daemonPerTest } from './fakes';

class FakeDevice implements WatchdogPort {
  readonly path = '/dev/watchdog';
  writes: string[] = [];
  opened = false;
  open(): void {
    this.opened = true;
  }
  feed(): void {
    this.writes.push('1');
  }
  disarm(): void {
    this.writes.push('V');
    this.opened = false;
  }
}

/** A VmSuspendCommand that returns only when the test says so. */
class GatedActions extends RecordingActions {
  private release: (() => void) | undefined;
  gate = false;
  waiting = false;
  override async suspendVms(ctx: CommandContext): Promise<SuspendResult> {
    if (this.gate) {
      this.waiting = true;
      await new Promise<void>((r) => (this.release = r));
    }
    return super.suspendVms(ctx);
  }
  open(): void {
    this.gate = false;
    this.release?.();
  }
}

let gated: GatedActions | undefined;
// A gated action still waiting would hold the daemon's stop: opened first.
const t = daemonPerTest(() => gated?.open());

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(vmmgr: string, device: FakeDevice | null) {
  t.dirs = testDirs(DOC_EXAMPLE_NODES, vmmgr);
  const corosync = new FakeCorosync(4);
  for (const n of DOC_EXAMPLE_NODES) corosync.versions[n.id] = 1;
  const actions = new GatedActions();
  gated = actions;
  const clock = new ManualClock();
  const { logger, lines } = captureLogger();
  t.daemon = new Corolistener({
    corosyncConf: t.dirs.corosyncConf,
    vmmgrConf: t.dirs.vmmgrConf,
    stateDir: t.dirs.stateDir,
    socket: join(t.dirs.root, 'ctl.sock'),
    logger,
    corosync,
    actions,
    clock,
    configPublisher: { publish: async () => undefined },
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    corosyncCheck: 'off',
    linkMonitor: null,
    ...(device === null ? {} : { watchdog: device }),
  });
  await t.daemon.start();
  return { daemon: t.daemon, corosync, actions, clock, lines, socket: join(t.dirs.root, 'ctl.sock') };
}

describe('Corolistener self-fencing', () => {
  it('feeds while quorate, starves while a suspend hangs after quorum loss, feeds again once it returned, disarms on stop', async () => {
    const device = new FakeDevice();
    const h = await start('CloudIp 198.18.0.100\nCloudMask 24\nWatchdogDevice /dev/watchdog\nWatchdogTimeout 10\n', device);
    expect(device.opened).toBe(true);
    h.corosync.session.quorum(true, [2, 4, 8], 8);
    await until(() => h.daemon.role === 'master');
    await h.daemon.settled();
    h.clock.advance(2000);
    expect(device.writes).toEqual(['1']);

    h.actions.gate = true;
    h.corosync.session.quorum(false, [4], 12);
    await until(() => h.actions.waiting);
    h.clock.advance(6000);
    expect(device.writes).toEqual(['1']);
    const starve = h.lines.find((l) => l.event === 'fencing-starve');
    expect(starve?.why).toMatch(/^not quorate: VMs not confirmed suspended yet/);
    const status = parseStatusWithFencing(await queryDaemon(h.socket, 'status', 2000));
    expect(status.fencing).toMatchObject({ enabled: true, armed: true, feeding: false, device: '/dev/watchdog', timeoutS: 10 });

    h.actions.open();
    await h.daemon.settled();
    h.clock.advance(2000);
    expect(device.writes).toEqual(['1', '1']);
    expect(h.lines.filter((l) => l.event === 'fencing-feed').at(-1)?.why).toBe('not quorate, every VM suspended, no master duty held');

    await h.daemon.stop();
    t.daemon = undefined;
    expect(device.writes.at(-1)).toBe('V');
    expect(h.lines.some((l) => l.event === 'fencing-disarmed')).toBe(true);
  });

  it('without a WatchdogDevice: fencing off, said at start, shown in status and -l --json, and this node announces no window', async () => {
    const h = await start('CloudIp 198.18.0.100\nCloudMask 24\n', null);
    expect(h.lines.filter((l) => l.event === 'fencing-off')).toHaveLength(1);
    h.corosync.session.quorum(true, [2, 4, 8], 8);
    await until(() => h.daemon.role === 'master');
    await h.daemon.settled();
    const nodes = (await queryDaemon(h.socket, 'nodes', 2000)) as { fencing?: unknown };
    expect(nodes.fencing).toMatchObject({ enabled: false, armed: false, device: null, pending: [] });
    const sent = h.corosync.session.sent.map((b) => JSON.parse(b.toString()) as { type: string; body: { fenceWindows?: unknown } }).find((m) => m.type === 'failureRecords');
    expect(sent?.body.fenceWindows).toEqual({ 4: 0 });
  });
});
