// A same-version conflict reaching the daemon over CPG (a signed hello or offer with our
// config_version and other content): the distributor hands it to the engine, which decides;
// the master raises again (config_version + 1, prio kept) and offers the new file, a slave
// changes nothing. Real daemon, real ClusterConfigPublisher, fake corosync.
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { CONFIG_HELLO, CONFIG_OFFER, encodeConfigMessage, sha256Hex } from '../../../src/cluster/config-messages';
import { KEY } from '../cluster/support';
import { corosyncConfText } from './fakes';
import { formed, node4CutOff, sentOf, settle, startWithPublisher, stopPublisherDaemon, waitFor } from './publisher-harness';

afterEach(stopPublisherDaemon);

/** Node 4's own version 2: it raised itself above node 2's 99 while cut off (other content than node 2's). */
const node4File = corosyncConfText(
  [
    { id: 2, prio: 99 },
    { id: 4, prio: 101 },
    { id: 8, prio: 98 },
  ],
  2,
);
const hello = (from: number, content: string, version: bigint, role: 'master' | 'slave', master: number | null, since: number | null) =>
  encodeConfigMessage({ type: CONFIG_HELLO, body: { version, sha256: sha256Hex(content), from, role, master, since } }, KEY);

describe('same-version conflicts in the daemon', () => {
  it('the master raises again past the conflicting version and offers it, whatever the digests say', async () => {
    const h = await startWithPublisher(2);
    const session = h.corosync.session;
    await formed(h);
    await node4CutOff(h);
    await waitFor(() => sentOf(session, CONFIG_OFFER).length === 1);
    expect(h.daemon.role).toBe('master');
    const ours = readFileSync(h.conf, 'utf8');
    expect(ours).toMatch(/config_version: 2\n/);
    // Node 4 returns with its own version 2 and says it is master, since the ring that just
    // formed (12): node 2 has been master longer (ring 11), so node 2 keeps the role and raises.
    h.corosync.versions[4] = 2;
    session.handlers.onGroupMembership!({ members: [2, 4, 8], joined: [4] });
    session.quorum(true, [2, 4, 8], 12);
    session.message(4, hello(4, node4File, 2n, 'master', 4, 12));
    const offerOf = (v: bigint) => sentOf(session, CONFIG_OFFER).find((m) => (m.body as { version: bigint }).version === v);
    await waitFor(() => offerOf(3n) !== undefined);
    await h.daemon.settled();
    const raised = readFileSync(h.conf, 'utf8');
    // Only config_version changed: node 2 already outranks every node (prio 101).
    expect(raised).toBe(ours.replace('config_version: 2\n', 'config_version: 3\n'));
    expect(offerOf(3n)!.body).toMatchObject({ version: 3n, content: raised, from: 2, role: 'master', master: 2, since: 11 });
    expect(h.daemon.role).toBe('master');
    expect(h.lines.some((l) => String(l.msg).startsWith('CONFLICT') && l.from === 4 && l.peerRole === 'master')).toBe(true);
    const decision = h.lines.find((l) => l.event === 'decision' && l.trigger === 'configConflict');
    expect(decision?.msg).toMatch(/node\(s\) 4 hold another corosync.conf with config_version 2.*raised again as version 3/);
  });

  it("a slave never installs the other file and raises nothing; it waits for the master's version", async () => {
    const h = await startWithPublisher(8);
    const session = h.corosync.session;
    await formed(h);
    expect(h.daemon.role).toBe('slave');
    const before = readFileSync(h.conf, 'utf8');
    const other = corosyncConfText(
      [
        { id: 2, prio: 99 },
        { id: 4, prio: 100 },
        { id: 8, prio: 500 },
      ],
      1,
    );
    session.message(2, encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 1n, sha256: sha256Hex(other), content: other, from: 2, role: 'slave', master: 4, since: null } }, KEY));
    await waitFor(() => h.lines.some((l) => l.event === 'decision' && l.trigger === 'configConflict'));
    await h.daemon.settled();
    await settle();
    expect(readFileSync(h.conf, 'utf8')).toBe(before);
    expect(sentOf(session, CONFIG_OFFER)).toEqual([]);
    expect(h.lines.find((l) => l.event === 'decision' && l.trigger === 'configConflict')?.msg).toMatch(/waiting for the master's next version/);
  });
});
