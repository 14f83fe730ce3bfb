// ClusterConfigPublisher plugged into the daemon (fake corosync): the takeover's publishConfig
// multicasts the new file, the ack of every group member triggers Cfg.reloadConfig(), a peer's
// newer file is installed and re-read by the daemon, a forged one is rejected and logged.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_ACK, CONFIG_OFFER, encodeConfigMessage, sha256Hex } from '../../../src/cluster/config-messages';
import { corosyncConfText } from '../daemon/fakes';
import { formed, node4CutOff, NODES, sentOf, settle, startWithPublisher as start, stopPublisherDaemon, waitFor } from '../daemon/publisher-harness';
import { KEY, OTHER_KEY } from './support';

afterEach(stopPublisherDaemon);

describe('ClusterConfigPublisher in the daemon', () => {
  it('takeover: the raised file is offered to the group; the last ack triggers the reload', async () => {
    const h = await start(2);
    const session = h.corosync.session;
    await formed(h);
    await node4CutOff(h);
    await settle();
    expect(h.daemon.role).toBe('master');
    const conf = readFileSync(h.conf, 'utf8');
    expect(conf).toMatch(/config_version: 2\n/);
    const offers = sentOf(session, CONFIG_OFFER);
    expect(offers).toHaveLength(1);
    expect(offers[0]!.body).toMatchObject({ version: 2n, content: conf, from: 2 });
    expect(h.reloads()).toBe(1); // raisePriority's own reload (the master's version shows in cmap at once)
    session.message(8, encodeConfigMessage({ type: CONFIG_ACK, body: { version: 2n, sha256: sha256Hex(conf), from: 8, ok: true } }, KEY));
    await settle();
    expect(h.reloads()).toBe(2); // every member acked: the members' new file is reloaded too
  });

  it("a member installs a peer's newer file and the daemon re-reads it; a forged one is rejected and logged", async () => {
    const h = await start(8);
    const session = h.corosync.session;
    await formed(h);
    const forged = corosyncConfText(
      [
        { id: 2, prio: 1 },
        { id: 4, prio: 1 },
        { id: 8, prio: 500 },
      ],
      9,
    );
    session.message(4, encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 9n, sha256: sha256Hex(forged), content: forged, from: 4, role: 'master', master: 4, since: null } }, OTHER_KEY));
    await settle();
    expect(readFileSync(h.conf, 'utf8')).toBe(corosyncConfText(NODES));
    expect(h.lines.find((l) => l.msg === 'cluster message rejected')).toMatchObject({ from: 4, code: 'bad-mac' });
    const next = corosyncConfText(
      [
        { id: 2, prio: 99 },
        { id: 4, prio: 101 },
        { id: 8, prio: 98 },
      ],
      2,
    );
    session.message(4, encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 2n, sha256: sha256Hex(next), content: next, from: 4, role: 'master', master: 4, since: null } }, KEY));
    // Installing validates and writes the file (seconds on a loaded machine): wait for the ack.
    await waitFor(() => sentOf(session, CONFIG_ACK).length > 0);
    await h.daemon.settled();
    expect(readFileSync(h.conf, 'utf8')).toBe(next);
    expect(sentOf(session, CONFIG_ACK).map((m) => m.body)).toEqual([expect.objectContaining({ version: 2n, from: 8, ok: true })]);
    expect(h.daemon.nodeListReport().nodes.find((n) => n.id === 4)?.priority).toBe(101);
    // The sender's signed version reached the engine: node 4 is not taken for stale, no second master.
    expect(h.daemon.role).toBe('slave');
    expect(h.daemon.nodeListReport().masterNodeId).toBe(4);
  });
});
