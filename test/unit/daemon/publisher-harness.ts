// A running daemon with the real configuration publisher (fake corosync): shared by the
// publisher's tests (test/unit/cluster/config-publisher.test.ts) and the daemon's conflict tests.
import { ClusterConfigPublisher } from '../../../src/cluster/config-publisher';
import { createMessageCodec } from '../../../src/cluster/messages';
import { Corolistener } from '../../../src/daemon/corolistener';
import { KEY } from '../cluster/support';
import { captureLogger, DOC_EXAMPLE_NODES, FakeCorosync, type FakeSession, ManualClock, RecordingActions, testDirs, type TestDirs } from './fakes';

export const NODES = DOC_EXAMPLE_NODES;

let dirs: TestDirs | undefined;
let daemon: Corolistener | undefined;

/** For afterEach: stops the daemon and removes its directories. */
export async function stopPublisherDaemon(): Promise<void> {
  await daemon?.stop();
  dirs?.cleanup();
  daemon = undefined;
  dirs = undefined;
}

/** A daemon (fake corosync, recording actions) with the real ClusterConfigPublisher, nodes 2, 4, 8 at version 1. */
export async function startWithPublisher(localNodeId: number) {
  dirs = testDirs(NODES);
  const corosync = new FakeCorosync(localNodeId);
  for (const n of NODES) corosync.versions[n.id] = 1;
  const { logger, lines } = captureLogger();
  const publisher = new ClusterConfigPublisher({ key: KEY, confPath: dirs.corosyncConf, log: logger, write: { corosyncCheck: 'off' }, syncPort: null });
  daemon = new Corolistener({
    corosyncConf: dirs.corosyncConf,
    vmmgrConf: dirs.vmmgrConf,
    stateDir: dirs.stateDir,
    logger,
    corosync,
    actions: new RecordingActions(),
    clock: new ManualClock(),
    configPublisher: publisher,
    retry: { attempts: 1, initialDelayMs: 5, maxDelayMs: 20 },
    corosyncCheck: 'off',
  });
  await daemon.start();
  return { daemon, corosync, lines, reloads: () => corosync.session.reloads, conf: dirs.corosyncConf };
}

type PublisherHarness = Awaited<ReturnType<typeof startWithPublisher>>;

/** Nodes 2, 4 and 8 form ring 10 (every one in the CPG group); node 4 is master. */
export async function formed(h: PublisherHarness): Promise<void> {
  h.corosync.session.handlers.onGroupMembership!({ members: [2, 4, 8], joined: [2, 4, 8] });
  h.corosync.session.quorum(true, [2, 4, 8], 10);
  await h.daemon.settled();
}

/** Then the master, node 4, is cut off (ring 11): node 2 takes over and writes version 2. */
export async function node4CutOff(h: PublisherHarness): Promise<void> {
  h.corosync.session.handlers.onGroupMembership!({ members: [2, 8], joined: [] });
  h.corosync.session.quorum(true, [2, 8], 11);
  await h.daemon.settled();
}

export const settle = () => new Promise((r) => setTimeout(r, 50));
export async function waitFor(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; !condition(); await settle()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
  }
}
export const sentOf = (s: FakeSession, type: string) => s.sent.map((d) => createMessageCodec().decode(d)).filter((m) => m.type === type);
