// `new Corolistener()` without a configPublisher runs the same daemon as `corolistener run`:
// the takeover's raised corosync.conf is offered to the CPG group, signed with the key derived
// from `keyFile`; without a readable key the daemon still runs and says the change stayed local.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ClusterKey } from '../../../src/cluster/cluster-key';
import { CONFIG_OFFER, isConfigMessageType, verifyConfigMessage } from '../../../src/cluster/config-messages';
import { createMessageCodec } from '../../../src/cluster/messages';
import { Corolistener } from '../../../src/daemon/corolistener';
import { captureLogger, DOC_EXAMPLE_NODES, FakeCorosync, ManualClock, RecordingActions, testDirs, daemonPerTest, type TestDirs } from './fakes';

const t = daemonPerTest();

/** Node 2 becomes master after node 4 (the master) leaves; returns the CPG config messages it sent. */
async function takeOverWithDefaultPublisher(keyFile: (d: TestDirs) => string) {
  t.dirs = testDirs(DOC_EXAMPLE_NODES);
  const corosync = new FakeCorosync(2);
  for (const n of DOC_EXAMPLE_NODES) corosync.versions[n.id] = 1;
  const { logger, lines } = captureLogger();
  t.daemon = new Corolistener({
    corosyncConf: t.dirs.corosyncConf,
    vmmgrConf: t.dirs.vmmgrConf,
    stateDir: t.dirs.stateDir,
    logger,
    corosync,
    actions: new RecordingActions(),
    clock: new ManualClock(),
    keyFile: keyFile(t.dirs),
    retry: { attempts: 1, initialDelayMs: 5, maxDelayMs: 20 },
    corosyncCheck: 'off',
  });
  await t.daemon.start();
  const session = corosync.session;
  session.handlers.onGroupMembership!({ members: [2, 4, 8], joined: [2, 4, 8] });
  session.quorum(true, [2, 4, 8], 10);
  await t.daemon.settled();
  session.handlers.onGroupMembership!({ members: [2, 8], joined: [] });
  session.quorum(true, [2, 8], 11);
  await t.daemon.settled();
  expect(t.daemon.role).toBe('master');
  const codec = createMessageCodec();
  const config = session.sent.map((d) => codec.decode(d)).filter((m) => isConfigMessageType(m.type));
  return { config, lines, conf: readFileSync(t.dirs.corosyncConf, 'utf8') };
}

describe('Corolistener default configuration publisher', () => {
  it('keyFile given: the takeover offers the raised corosync.conf to the group, signed with that key', async () => {
    const secret = Buffer.alloc(64, 7);
    const { config, lines, conf } = await takeOverWithDefaultPublisher((d) => {
      const file = join(d.root, 'authkey');
      writeFileSync(file, secret);
      return file;
    });
    expect(conf).toMatch(/config_version: 2\n/);
    const offers = config.filter((m) => m.type === CONFIG_OFFER);
    expect(offers).toHaveLength(1);
    expect(offers[0]!.body).toMatchObject({ version: 2n, content: conf, from: 2 });
    expect(verifyConfigMessage(offers[0] as never, ClusterKey.fromSecret(secret))).toBeDefined();
    expect(verifyConfigMessage(offers[0] as never, ClusterKey.fromSecret(Buffer.alloc(64, 8)))).toBeUndefined();
    expect(lines.some((l) => l.event === 'cluster-key' || l.event === 'publish-config')).toBe(false);
  });

  it('keyFile unreadable: the daemon still takes over, logs the missing key and that the change stayed local', async () => {
    let missing = '';
    const { config, lines, conf } = await takeOverWithDefaultPublisher((d) => (missing = join(d.root, 'no-such-authkey')));
    expect(conf).toMatch(/config_version: 2\n/);
    expect(config).toEqual([]);
    expect(lines.find((l) => l.event === 'cluster-key')).toMatchObject({ level: 50, keyFile: missing, error: expect.stringContaining(missing) });
    expect(lines.find((l) => l.event === 'publish-config')).toMatchObject({ level: 40, configVersion: 2 });
  });
});
