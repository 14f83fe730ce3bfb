// Operating the cluster through the daemon (issue 18), with a fake corosync and real files:
// commands over the control socket written into corosync.conf, a switchover answered once the
// new master announced its takeover and every member has the file (with the no-holder gap the
// two nodes measured), the history file across a restart, and NotifyCommand on role changes.
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/cluster/envelope';
import { ClusterKey } from '../../../src/cluster/cluster-key';
import { HANDOVER } from '../../../src/cluster/handover-messages';
import { OPERATOR, signOperator } from '../../../src/cluster/operator-messages';
import type { ConfigPublisher } from '../../../src/cluster/publisher-port';
import { queryDaemon } from '../../../src/daemon/control-socket';
import { Corolistener } from '../../../src/daemon/corolistener';
import { HISTORY_FILE, readHistory } from '../../../src/daemon/history';
import type { OperateResult } from '../../../src/daemon/operator-desk';
import { captureLogger, DOC_EXAMPLE_NODES, FakeCorosync, RecordingActions, testDirs, type TestDirs } from '../daemon/fakes';

let dirs: TestDirs | undefined;
let daemon: Corolistener | undefined;

afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
  dirs?.cleanup();
  dirs = undefined;
});

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function start(reuse?: TestDirs, localNodeId = 4): Promise<{ corosync: FakeCorosync; socket: string; published: number[] }> {
  if (reuse === undefined) {
    dirs = testDirs(DOC_EXAMPLE_NODES);
    const notify = join(dirs.root, 'notify.sh');
    writeFileSync(notify, '#!/bin/sh\necho "$COROLISTENER_OLD_ROLE -> $COROLISTENER_NEW_ROLE node=$COROLISTENER_NODEID" >> "$1"\n');
    chmodSync(notify, 0o755);
    writeFileSync(dirs.vmmgrConf, `CloudIp 198.18.0.100\nCloudMask 24\nNotifyCommand ${notify} ${join(dirs.root, 'notified.txt')}\n`);
  }
  const d = dirs!;
  const corosync = new FakeCorosync(localNodeId);
  writeFileSync(join(d.root, 'authkey'), 'a cluster key of at least sixteen bytes');
  for (const n of DOC_EXAMPLE_NODES) corosync.versions[n.id] = 1;
  const published: number[] = [];
  const publisher: ConfigPublisher = { publish: async ({ configVersion }) => void published.push(configVersion) };
  const socket = join(d.root, 'ctl.sock');
  daemon = new Corolistener({
    corosyncConf: d.corosyncConf,
    vmmgrConf: d.vmmgrConf,
    stateDir: d.stateDir,
    socket,
    logger: captureLogger().logger,
    corosync,
    actions: new RecordingActions(),
    configPublisher: publisher,
    retry: { attempts: 2, initialDelayMs: 5, maxDelayMs: 20 },
    corosyncCheck: 'off',
    linkMonitor: null,
    keyFile: join(d.root, 'authkey'),
  });
  await daemon.start();
  return { corosync, socket, published };
}

const operate = async (socket: string, args: string[], timeoutMs = 10_000): Promise<OperateResult> => (await queryDaemon(socket, 'operate', timeoutMs + 5_000, { args, timeoutMs })) as OperateResult;

it('writes maintenance and standby into corosync.conf as the master, refuses what it must, and keeps a history that survives a restart', async () => {
  const { corosync, socket, published } = await start();
  corosync.session.quorum(true, [2, 4, 8], 10);
  await until(() => daemon!.role === 'master');
  await daemon!.settled();
  expect(await operate(socket, ['maintenance', 'on'])).toEqual({ ok: true, message: 'maintenance on: config_version 2', configVersion: 2 });
  const text = readFileSync(dirs!.corosyncConf, 'utf8');
  expect(text).toMatch(/config_version: 2/);
  expect(text).toMatch(/\ncorolistener \{\n\tmaintenance: on\n\}\n$/);
  expect(published).toContain(2);
  expect(corosync.session.reloads).toBeGreaterThan(0);
  await until(() => daemon!.nodeListReport().cluster.maintenance === true);
  expect(await operate(socket, ['maintenance', 'on'])).toMatchObject({ ok: true, message: 'maintenance is already on: nothing written' });
  expect(await operate(socket, ['switchover', '9'])).toEqual({ ok: false, message: 'node 9 is not in the nodelist' });
  expect(await operate(socket, ['standby', '8', 'on'])).toMatchObject({ ok: true, message: 'standby 8 on: config_version 3' });
  expect(readFileSync(dirs!.corosyncConf, 'utf8')).toMatch(/nodeid: 8\n {4}prio: 98\n {4}replication: on\n {4}standby: on\n/);
  await until(() => daemon!.nodeListReport().nodes.find((n) => n.id === 8)?.standby === true);
  await daemon!.settled();
  // NotifyCommand ran for the role change (unknown -> master), with the old and new role.
  await until(() => {
    try {
      return readFileSync(join(dirs!.root, 'notified.txt'), 'utf8').includes('unknown -> master node=4');
    } catch {
      return false;
    }
  });
  // The history: every decision, with trigger, role and explanation, and the steps' outcomes.
  await daemon!.stop();
  daemon = undefined;
  const before = await readHistory(join(dirs!.stateDir, HISTORY_FILE));
  expect(before.some((e) => e.kind === 'decision' && e.role === 'master' && e.previousRole !== 'master')).toBe(true);
  expect(before.some((e) => e.kind === 'decision' && e.trigger === 'command' && /maintenance on: config_version 2/.test(e.explanation))).toBe(true);
  expect(before.some((e) => e.kind === 'step' && e.effect === 'editConfig' && e.outcome === 'ok')).toBe(true);
  const again = await start(dirs);
  again.corosync.session.quorum(true, [2, 4, 8], 11);
  await until(() => daemon!.nodeListReport().cluster.quorate);
  await daemon!.settled();
  const after = await readHistory(join(dirs!.stateDir, HISTORY_FILE));
  expect(after.slice(0, before.length)).toEqual(before);
  expect(new Set(after.map((e) => e.run)).size).toBe(2);
});

it('answers a switchover once the target announced its takeover and every member has the file, with the measured gap', async () => {
  const { corosync, socket } = await start();
  corosync.session.quorum(true, [2, 4, 8], 10);
  await until(() => daemon!.role === 'master');
  await daemon!.settled();
  const answer = operate(socket, ['switchover', '2']);
  // The edit is written as version 2; the others install it (cmap shows it after a new ring here).
  await until(() => /config_version: 2/.test(readFileSync(dirs!.corosyncConf, 'utf8')));
  for (const id of [2, 8]) corosync.versions[id] = 2;
  corosync.session.quorum(true, [2, 4, 8], 11);
  // This node steps down and announces its release (its own message comes back through the fake).
  await until(() => daemon!.role === 'slave');
  await until(() => corosync.session.sent.some((b) => b.toString().includes('"released"')));
  // Node 2 took over 7 ms after the release arrived; the release said the IP had been free for 5 ms.
  corosync.session.message(2, encodeMessage(HANDOVER, { phase: 'taken', from: 4, ipFreeMs: 5, heldAfterMs: 7 }));
  const result = await answer;
  expect(result.ok, result.message).toBe(true);
  expect(result.message).toBe(
    'switchover 2: config_version 2; the master role moves from node 4 to node 2 (ordered hand-over); node 2 is master, all 3 members at config_version 2; no cluster-IP holder for 12 ms (node 4 released it 5 ms before its release went out; node 2 held it 7 ms after the release arrived)',
  );
  expect(result.handover).toMatchObject({ from: 4, to: 2, gapMs: 12 });
});

it('a command given to a slave is forwarded to the master, signed, and answered from there', async () => {
  const { corosync, socket } = await start(undefined, 2);
  corosync.session.quorum(true, [2, 4, 8], 10);
  await until(() => daemon!.nodeListReport().masterNodeId === 4);
  await daemon!.settled();
  const answer = operate(socket, ['prio', 'set', '8', '50']);
  await until(() => corosync.session.sent.some((b) => b.toString().includes('"operator"')));
  const request = JSON.parse(corosync.session.sent.find((b) => b.toString().includes('"operator"'))!.toString()) as { body: { id: string; to: number; args: string[] } };
  expect(request.body).toMatchObject({ to: 4, args: ['prio', 'set', '8', '50'] });
  const key = await ClusterKey.fromFile(join(dirs!.root, 'authkey'));
  // A forged answer (another key) is dropped; the master's signed one is the answer.
  const other = ClusterKey.fromSecret(Buffer.from('another key of at least sixteen bytes'));
  corosync.session.message(4, encodeMessage(OPERATOR, signOperator({ phase: 'result', id: request.body.id, to: 2, ok: true, message: 'forged' }, other)));
  corosync.session.message(4, encodeMessage(OPERATOR, signOperator({ phase: 'result', id: request.body.id, to: 2, ok: true, message: 'prio set 8 50: config_version 2' }, key)));
  expect(await answer).toEqual({ ok: true, message: 'prio set 8 50: config_version 2 (done by node 4)' });
});
