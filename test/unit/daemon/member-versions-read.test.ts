import { describe, expect, it } from 'vitest';
import { Corolistener } from '../../../src/daemon/corolistener';
import { captureLogger, DOC_EXAMPLE_NODES, FakeCorosync, ManualClock, RecordingActions, testDirs, daemonPerTest } from './fakes';

const t = daemonPerTest();

/** A daemon on node 4 of the documentation's example nodes, every member's cmap version 1, its cmap reads recorded. */
async function start(): Promise<{ corosync: FakeCorosync; reads: number[][] }> {
  t.dirs = testDirs(DOC_EXAMPLE_NODES);
  const corosync = new FakeCorosync(4);
  for (const n of DOC_EXAMPLE_NODES) corosync.versions[n.id] = 1;
  t.daemon = new Corolistener({
    corosyncConf: t.dirs.corosyncConf,
    vmmgrConf: t.dirs.vmmgrConf,
    stateDir: t.dirs.stateDir,
    logger: captureLogger().logger,
    corosync,
    actions: new RecordingActions(),
    clock: new ManualClock(),
    configPublisher: { publish: async () => {} },
    retry: { attempts: 3, initialDelayMs: 5, maxDelayMs: 20 },
    reconnect: { initialMs: 200, maxMs: 1600 },
    corosyncCheck: 'off',
  });
  await t.daemon.start();
  const reads: number[][] = [];
  const session = corosync.session;
  const read = session.configVersions.bind(session);
  session.configVersions = (members) => {
    reads.push([...members]);
    return read(members);
  };
  return { corosync, reads };
}

describe("members' config versions read from cmap after a membership change", () => {
  it('at once only for members the engine has no version of; for all once the plan is done', async () => {
    const { corosync, reads } = await start();
    corosync.session.quorum(true, [2, 4, 8], 10);
    expect(reads).toEqual([[2, 4, 8]]); // none known yet: the election waits for them
    await t.daemon!.settled();
    expect(reads).toEqual([
      [2, 4, 8],
      [2, 4, 8],
    ]);
    expect(t.daemon!.nodeListReport().masterNodeId).not.toBeNull();

    corosync.session.quorum(true, [4, 8], 11); // node 2 left: 4 and 8 stayed, their versions known
    expect(reads).toHaveLength(2); // no round trip to corosync before the decision's plan runs
    await t.daemon!.settled();
    expect(reads.at(-1)).toEqual([4, 8]);

    corosync.session.quorum(true, [2, 4, 8], 12); // node 2 is back: its version is not trusted from before
    expect(reads.at(-1)).toEqual([2]);
    await t.daemon!.settled();
    expect(reads.at(-1)).toEqual([2, 4, 8]);
  });

  it("a version changed in cmap still reaches the engine after the plan (a stayed member's file replaced)", async () => {
    const { corosync } = await start();
    corosync.session.quorum(true, [2, 4, 8], 10);
    await t.daemon!.settled();
    corosync.versions[8] = 5; // no cmap notification
    corosync.session.quorum(true, [4, 8], 11);
    await t.daemon!.settled();
    // The engine saw node 8 at version 5, newer than its own file (version 1): it waits for it.
    expect(t.daemon!.nodeListReport().masterNodeId).toBeNull();
  });
});
