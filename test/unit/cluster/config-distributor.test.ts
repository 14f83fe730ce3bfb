// The distributor against a simulated CPG group: real files in temp dirs (our validation, atomic
// write with backup; `corosync -t` off because the test nodes are not this host), real message
// encoding and decoding (ConfigChannel), agreed-order delivery to every connected member,
// injected timers.
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editCorosyncConf, raiseNodePrioAboveOthers, type WriteCorosyncConfOptions } from '../../../src/config';
import { ConfigChannel } from '../../../src/cluster/config-channel';
import type { ConfigDistributor } from '../../../src/cluster/config-distributor';
import type { ConfigConflictReport } from '../../../src/cluster/config-distributor';
import { CONFIG_OFFER, encodeConfigMessage, sha256Hex, type SenderSide } from '../../../src/cluster/config-messages';
import { encodeMessage, MAX_MESSAGE_BYTES } from '../../../src/cluster/envelope';
import { confText, KEY, OTHER_KEY, recordingLog } from './support';

interface TestNode {
  id: number;
  path: string;
  channel: ConfigChannel;
  log: ReturnType<typeof recordingLog>;
  reloads: number;
  connected: boolean;
  /** Its daemon receives nothing (hung): it never acks. */
  deaf: boolean;
  installed: bigint[];
  /** What its engine says (sent in offers and hellos). */
  side: SenderSide;
  conflicts: ConfigConflictReport[];
}

interface Timer {
  ms: number;
  fn: () => void;
  cancelled: boolean;
}

async function settle(d: ConfigDistributor): Promise<void> {
  for (;;) {
    const p = d.idle();
    await p;
    if (p === d.idle()) return;
  }
}

class Group {
  readonly nodes = new Map<number, TestNode>();
  readonly queue: { from: number; data: Buffer }[] = [];
  readonly timers: Timer[] = [];
  /**
   * Stand-in for the engines' same-version conflict rule (src/engine resolveConflict, tested in
   * test/unit/engine/config-race.test.ts; the daemon wiring in test/unit/daemon): a master
   * raises again past the conflicting version and publishes, unless the report comes from a
   * master that has been master longer (then lower nodeid) or from another master's slave.
   * Off: conflicts are only recorded.
   */
  resolveConflicts = false;
  private constructor(readonly dir: string) {}

  static async create(): Promise<Group> {
    return new Group(await mkdtemp(join(tmpdir(), 'confdist-')));
  }

  async add(id: number, text: string, publisher?: () => boolean, write: WriteCorosyncConfOptions = { corosyncCheck: 'off' }): Promise<TestNode> {
    const path = join(this.dir, `n${id}.conf`);
    await writeFile(path, text);
    const log = recordingLog();
    const node: TestNode = {
      id,
      path,
      log,
      reloads: 0,
      connected: true,
      deaf: false,
      installed: [],
      side: { role: 'slave', master: null, since: null },
      conflicts: [],
      channel: undefined as unknown as ConfigChannel,
    };
    node.channel = new ConfigChannel({
      localNodeId: id,
      key: KEY,
      confPath: path,
      send: async (data) => {
        if (node.connected) this.queue.push({ from: id, data });
      },
      reload: () => {
        node.reloads++;
      },
      log,
      write,
      ackTimeoutMs: 5000,
      setTimer: (ms, fn) => {
        const t: Timer = { ms, fn, cancelled: false };
        this.timers.push(t);
        return () => {
          t.cancelled = true;
        };
      },
      isPublisher: publisher,
      onInstalled: (c) => node.installed.push(c.version),
      localSide: () => node.side,
      onConflict: (c) => {
        node.conflicts.push(c);
        if (!this.resolveConflicts || node.side.role !== 'master') return;
        // The other master's own report decides: the one master longest (then lower nodeid) raises.
        const later = (since: number | null) => since ?? Number.POSITIVE_INFINITY;
        const theirsFirst = c.peerRole === 'master' && (later(c.peerSince) < later(node.side.since) || (later(c.peerSince) === later(node.side.since) && c.from < id));
        if (theirsFirst || (c.peerRole !== 'master' && c.peerMaster !== null && c.peerMaster !== id)) return;
        // As the daemon runs the engine's raisePriority + publishConfig effects (outside the
        // distributor's own step: the plan runner is separate).
        setImmediate(() => void this.raise(id, c.version + 1n).then(() => node.channel.publishConfig({ configVersion: c.version + 1n })));
      },
    });
    this.nodes.set(id, node);
    return node;
  }

  members(): number[] {
    return [...this.nodes.values()].filter((n) => n.connected).map((n) => n.id);
  }

  /** Delivers queued messages in order to every connected member until nothing is left. */
  async flush(): Promise<void> {
    for (let guard = 0; guard < 500; guard++) {
      for (const n of this.nodes.values()) await settle(n.channel.distributor);
      const m = this.queue.shift();
      if (!m) return;
      for (const n of this.nodes.values()) {
        if (!n.connected || n.deaf) continue;
        n.channel.onCpgMessage({ nodeId: m.from, data: m.data });
        await settle(n.channel.distributor);
      }
    }
    throw new Error('messages never stopped');
  }

  /** A confchg delivered to every connected member. */
  async confchg(joined: number[] = []): Promise<void> {
    const members = this.members().map((nodeId) => ({ nodeId }));
    for (const n of this.nodes.values()) {
      if (n.connected) await n.channel.onCpgConfchg({ members, joined: joined.map((nodeId) => ({ nodeId })) });
    }
    await this.flush();
  }

  async fireTimers(): Promise<void> {
    for (const t of this.timers.splice(0)) if (!t.cancelled) t.fn();
    await this.flush();
  }

  file(id: number): Promise<string> {
    return readFile(this.nodes.get(id)!.path, 'utf8');
  }

  /** What the engine's raisePriority effect does on the new master (under the distributor's lock, as in the daemon). */
  async raise(id: number, minVersion?: bigint): Promise<void> {
    const node = this.nodes.get(id)!;
    await node.channel.distributor.exclusive(() => editCorosyncConf(node.path, (doc) => raiseNodePrioAboveOthers(doc, id, minVersion).doc, { corosyncCheck: 'off' }));
  }

  /** flush until the stand-in engines' raises (run outside the distributor's steps) are done too. */
  async settleAll(): Promise<void> {
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await this.flush();
    }
  }

  cleanup(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

let group: Group;
afterEach(async () => {
  await group?.cleanup();
});

/** Node 1 (the publisher, as its engine says) and node 2, both at version 6, in one group. */
async function publisherAndSlave(): Promise<Group> {
  group = await Group.create();
  await group.add(1, confText(6, [100, 90, 80]), () => true);
  await group.add(2, confText(6, [100, 90, 80]), () => false);
  await group.confchg([1, 2]);
  return group;
}

async function threeNodes(version = 5): Promise<Group> {
  group = await Group.create();
  for (const id of [1, 2, 3]) await group.add(id, confText(version));
  await group.confchg([1, 2, 3]);
  return group;
}

describe('ConfigDistributor', () => {
  it("distributes the master's new file to every member, which install it (backup kept) and ack; then one reload", async () => {
    const g = await threeNodes();
    g.nodes.get(1)!.connected = false; // node 1, the master, failed
    await g.confchg();
    await g.raise(2);
    const master = await g.file(2);
    expect(master).toContain('config_version: 6');
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 6n });
    expect(g.nodes.get(2)!.channel.distributor.pending?.waiting).toEqual(new Set([3]));
    await g.flush();
    expect(await g.file(3)).toBe(master);
    expect(await readFile(g.nodes.get(3)!.path + '.bak', 'utf8')).toBe(confText(5));
    expect(g.nodes.get(3)!.installed).toEqual([6n]);
    expect(g.nodes.get(2)!.reloads).toBe(1);
    expect(g.nodes.get(3)!.reloads).toBe(0); // Cfg.reloadConfig() is cluster-wide: the master alone calls it
    expect(g.nodes.get(2)!.channel.distributor.pending).toBeUndefined();
  });

  it('reloads when the deadline passes without every ack, and logs who is missing', async () => {
    const g = await threeNodes();
    g.nodes.get(1)!.deaf = true;
    await g.raise(3);
    await g.nodes.get(3)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    expect(g.nodes.get(3)!.reloads).toBe(0);
    expect(g.timers.filter((t) => !t.cancelled).map((t) => t.ms)).toEqual([5000]);
    await g.fireTimers();
    expect(g.nodes.get(3)!.reloads).toBe(1);
    const warn = g.nodes.get(3)!.log.lines.find((l) => l.level === 'warn');
    expect(warn?.obj).toMatchObject({ why: 'ack deadline passed', missing: [1] });
  });

  it('stops waiting for a member that leaves during the round', async () => {
    const g = await threeNodes();
    g.nodes.get(1)!.deaf = true;
    await g.raise(3);
    await g.nodes.get(3)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    expect(g.nodes.get(3)!.reloads).toBe(0);
    g.nodes.get(1)!.connected = false;
    await g.confchg();
    expect(g.nodes.get(3)!.reloads).toBe(1);
    expect(g.timers.every((t) => t.cancelled)).toBe(true);
  });

  it('a member that refuses once (transient `corosync -t` failure) is offered the file again with backoff, within the ring', async () => {
    group = await Group.create();
    const g = group;
    // Node 3's `corosync -t` fails the first time only (as a full disk or a timeout would).
    const check = join(g.dir, 'corosync-once');
    await writeFile(check, `#!/bin/sh\nif [ -e "${check}.failed" ]; then exit 0; fi\n: > "${check}.failed"\necho "No space left on device" >&2\nexit 1\n`);
    await chmod(check, 0o755);
    for (const id of [1, 2]) await g.add(id, confText(5));
    await g.add(3, confText(5), undefined, { corosyncCheck: 'required', corosyncBinary: check });
    await g.confchg([1, 2, 3]);
    await g.raise(2);
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    expect(await g.file(1)).toBe(await g.file(2));
    expect(await g.file(3)).toBe(confText(5));
    const log2 = g.nodes.get(2)!.log.lines;
    expect(log2.find((l) => l.msg === 'member refused the configuration')?.obj).toMatchObject({ from: 3, error: expect.stringContaining('No space left on device') });
    expect(log2.find((l) => l.msg === 'offering corosync.conf again to members that refused or missed it')?.obj).toMatchObject({ version: '6', members: [3], inMs: 1000 });
    expect(g.nodes.get(2)!.reloads).toBe(1);
    // The retry timer fires (same ring, node 3 still a member and still at 5): offered again, installed.
    expect(g.timers.filter((t) => !t.cancelled).map((t) => t.ms)).toEqual([1000]);
    await g.fireTimers();
    expect(await g.file(3)).toBe(await g.file(2));
    expect(g.nodes.get(3)!.installed).toEqual([6n]);
    expect(g.nodes.get(2)!.reloads).toBe(2); // cmap shows version 6 for node 3 too
    // Everyone has it: no further retry.
    expect(g.timers.filter((t) => !t.cancelled)).toEqual([]);
  });

  it('a member that keeps missing the offer is retried with doubling delays (capped), and not once it left', async () => {
    const g = await threeNodes();
    g.nodes.get(3)!.deaf = true;
    await g.raise(2);
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      // The ack deadline (5000 ms) ends each round; then the re-offer's delay.
      const pending = g.timers.filter((t) => !t.cancelled).map((t) => t.ms);
      expect(pending).toEqual([5000]);
      await g.fireTimers();
      const retry = g.timers.filter((t) => !t.cancelled).map((t) => t.ms);
      expect(retry).toHaveLength(1);
      delays.push(retry[0]!);
      await g.fireTimers();
    }
    expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(await g.file(3)).toBe(confText(5));
    // Node 3 leaves the group: the pending round stops waiting, nothing is offered again.
    g.nodes.get(3)!.connected = false;
    await g.confchg();
    expect(g.timers.filter((t) => !t.cancelled)).toEqual([]);
  });

  it('refuses to publish a version the file does not have', async () => {
    const g = await threeNodes();
    await expect(g.nodes.get(1)!.channel.publishConfig({ configVersion: 6n })).rejects.toThrow('cannot publish config_version 6: the installed file has 5');
    expect(g.queue).toEqual([]);
    expect(g.nodes.get(1)!.log.lines.at(-1)).toMatchObject({ level: 'error', msg: 'config distribution step failed' });
  });

  it('ignores (and logs) an offer older than the installed file; the file does not change', async () => {
    group = await Group.create();
    const g = group;
    await g.add(1, confText(4));
    // Node 2 would push its newer file to node 1 at the hello if it were the publisher.
    await g.add(2, confText(5, [100, 95, 80]), () => false);
    await g.confchg([1, 2]);
    const before = await g.file(2);
    await g.nodes.get(1)!.channel.publishConfig({ configVersion: 4n });
    await g.flush();
    expect(await g.file(2)).toBe(before);
    expect(g.nodes.get(2)!.log.lines.find((l) => l.level === 'warn')?.msg).toBe('config offer ignored: older than the installed file');
    expect(g.nodes.get(1)!.channel.distributor.pending).toBeUndefined();
    expect(g.nodes.get(1)!.log.lines.some((l) => l.msg === 'member refused the configuration')).toBe(true);
  });

  it("two different files with the same version: nothing installed, each side reports the conflict with the sender's role, logged loudly", async () => {
    group = await Group.create();
    const g = group;
    const a = confText(6, [100, 90, 80]);
    const b = confText(6, [70, 101, 80]);
    await g.add(1, a);
    await g.add(2, b);
    await g.add(3, confText(5));
    g.nodes.get(1)!.side = { role: 'master', master: 1, since: 8 };
    g.nodes.get(2)!.side = { role: 'slave', master: 1, since: null };
    await g.confchg([1, 2, 3]);
    await g.nodes.get(1)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    // No digest lottery: each keeps its file; node 3 (older) installs the offer it got.
    expect(await g.file(1)).toBe(a);
    expect(await g.file(2)).toBe(b);
    expect(await g.file(3)).toBe(a);
    // Node 2 saw node 1's offer, node 1 saw node 2's hello (its answer to the offer, and at the join).
    expect(g.nodes.get(2)!.conflicts).toContainEqual({ from: 1, version: 6n, ourSha256: sha256Hex(b), theirSha256: sha256Hex(a), peerRole: 'master', peerMaster: 1, peerSince: 8 });
    expect(g.nodes.get(1)!.conflicts).toContainEqual({ from: 2, version: 6n, ourSha256: sha256Hex(a), theirSha256: sha256Hex(b), peerRole: 'slave', peerMaster: 1, peerSince: null });
    expect(g.nodes.get(2)!.installed).toEqual([]);
    for (const id of [1, 2]) expect(g.nodes.get(id)!.log.lines.some((l) => l.level === 'error' && l.msg.startsWith('CONFLICT'))).toBe(true);
    const refusal = g.nodes.get(1)!.log.lines.find((l) => l.msg === 'member refused the configuration');
    expect(refusal?.obj).toMatchObject({ from: 2, error: expect.stringContaining('waiting for a higher version') });
  });

  it("racing takeovers at base version 4 (the loser's sha256 is higher): the sitting master's raise is kept, settled by version", async () => {
    group = await Group.create();
    const g = group;
    g.resolveConflicts = true;
    for (const id of [1, 2, 3]) await g.add(id, confText(4));
    await g.confchg([1, 2, 3]);
    // Node 1 (the master) fails; node 3 takes over first: it writes version 5 with its raised
    // prio and is cut off before anyone receives its offer.
    g.nodes.get(1)!.connected = false;
    await g.raise(3);
    g.nodes.get(3)!.side = { role: 'master', master: 3, since: 8 };
    await g.nodes.get(3)!.channel.publishConfig({ configVersion: 5n });
    g.nodes.get(3)!.connected = false;
    g.nodes.get(3)!.side = { role: 'suspended', master: null, since: null };
    g.queue.length = 0;
    // Node 2 takes over from version 4 as well (node 1 back as its slave).
    g.nodes.get(1)!.connected = true;
    await g.confchg([1]);
    await g.raise(2);
    g.nodes.get(2)!.side = { role: 'master', master: 2, since: 12 };
    g.nodes.get(1)!.side = { role: 'slave', master: 2, since: null };
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 5n });
    await g.flush();
    const cut = await g.file(3);
    const sitting = await g.file(2);
    expect(cut).toContain('config_version: 5');
    expect(sitting).toContain('config_version: 5');
    // The audit's case: the old rule (higher sha256 wins) would have kept the cut node's file.
    expect(sha256Hex(cut) > sha256Hex(sitting)).toBe(true);
    // Node 3 heals: the hellos show the conflict; the master (node 2) raises to 6 on its own file.
    g.nodes.get(3)!.connected = true;
    await g.confchg([3]);
    await g.settleAll();
    const files = await Promise.all([1, 2, 3].map((id) => g.file(id)));
    expect(new Set(files).size).toBe(1);
    // Node 2's prio 101 is the highest; node 3's raise (101 in its own file) is gone.
    expect(files[0]).toBe(confText(6, [100, 101, 80]));
    // Nobody ever installed a version-5 file of other content.
    expect(g.nodes.get(3)!.installed).toEqual([6n]);
    expect(g.nodes.get(1)!.installed).toEqual([5n, 6n]);
  });

  it('two masters with the same version and other files: the one master longest raises (not the lower nodeid), the other installs its file', async () => {
    group = await Group.create();
    const g = group;
    g.resolveConflicts = true;
    await g.add(1, confText(7, [100, 90, 80]));
    await g.add(2, confText(7, [100, 101, 80]));
    await g.add(3, confText(7, [100, 90, 101]));
    // Node 3 is the sitting master (since ring 10); node 2 returns from a partition and elects
    // itself from its own table (since ring 30, the heal).
    g.nodes.get(1)!.side = { role: 'slave', master: 3, since: null };
    g.nodes.get(2)!.side = { role: 'master', master: 2, since: 30 };
    g.nodes.get(3)!.side = { role: 'master', master: 3, since: 10 };
    await g.confchg([1, 2, 3]);
    await g.settleAll();
    const files = await Promise.all([1, 2, 3].map((id) => g.file(id)));
    expect(files).toEqual([1, 2, 3].map(() => confText(8, [100, 90, 101])));
    expect(g.nodes.get(2)!.installed).toEqual([8n]);
    // Node 2 never raised (no preemption by the lower nodeid); it heard node 3 itself.
    expect(g.nodes.get(2)!.conflicts).toContainEqual(expect.objectContaining({ from: 3, peerRole: 'master', peerSince: 10 }));
    expect(g.nodes.get(2)!.log.lines.some((l) => l.msg === 'publishing corosync.conf')).toBe(false);
  });

  it('a member that joins with an older file announces it and gets the newest pushed by the publisher', async () => {
    const g = await publisherAndSlave();
    await g.add(3, confText(5));
    await g.confchg([3]);
    expect(await g.file(3)).toBe(await g.file(1));
    expect(g.nodes.get(3)!.installed).toEqual([6n]);
    expect(g.nodes.get(1)!.reloads).toBe(1);
    expect(g.nodes.get(2)!.reloads).toBe(0);
  });

  it('several older members joining at once, each announcing its file several times, get one offer (not one per hello)', async () => {
    const g = await publisherAndSlave();
    await g.add(3, confText(5));
    await g.add(4, confText(5));
    await g.confchg([3, 4]);
    for (const id of [3, 4]) expect(await g.file(id)).toBe(await g.file(1));
    const logged = (msg: string) => g.nodes.get(1)!.log.lines.filter((l) => l.msg === msg).length;
    expect(logged('publishing corosync.conf')).toBe(1);
    expect(logged('config round superseded by a newer publish')).toBe(0);
    expect(g.nodes.get(1)!.reloads).toBe(1);
    // A member that joins after the offer was sent is not in its round: it gets its own.
    await g.add(5, confText(5));
    await g.confchg([5]);
    expect(await g.file(5)).toBe(await g.file(1));
    expect(logged('publishing corosync.conf')).toBe(2);
  });

  it("a joiner holding the newest file learns from the others' hellos that it must push (default publisher rule)", async () => {
    group = await Group.create();
    const g = group;
    await g.add(1, confText(5));
    await g.add(2, confText(5));
    await g.confchg([1, 2]);
    await g.add(3, confText(7, [10, 20, 30]));
    await g.confchg([3]);
    for (const id of [1, 2]) expect(await g.file(id)).toBe(confText(7, [10, 20, 30]));
    expect(g.nodes.get(3)!.reloads).toBe(1);
  });

  it('a member refuses a file that fails validation: nothing written, refusal acked and logged', async () => {
    const g = await threeNodes();
    const bad = confText(6).replace('prio: 90', 'prio: high');
    g.queue.push({
      from: 1,
      data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 6n, sha256: sha256Hex(bad), content: bad, from: 1, role: 'master', master: 1, since: null } }, KEY),
    });
    await g.flush();
    for (const id of [2, 3]) {
      expect(await g.file(id)).toBe(confText(5));
      const err = g.nodes.get(id)!.log.lines.find((l) => l.level === 'error');
      expect(err?.msg).toBe('config offer refused: invalid here, nothing written');
      expect(String((err?.obj as { err: Error }).err.message)).toContain('nodelist.node[1].prio');
    }
  });

  it('a file whose config_version differs from the one the message claims is refused', async () => {
    const g = await threeNodes();
    const text = confText(9);
    g.queue.push({ from: 1, data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 6n, sha256: sha256Hex(text), content: text, from: 1, role: 'master', master: 1, since: null } }, KEY) });
    await g.flush();
    expect(await g.file(2)).toBe(confText(5));
  });

  it("the daemon's own edit (exclusive) and a peer's install never interleave", async () => {
    const g = await threeNodes();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Node 3 starts raising its priority (read-edit-write) while node 1's newer file arrives.
    const edit = g.nodes.get(3)!.channel.distributor.exclusive(async () => {
      await gate;
      await editCorosyncConf(g.nodes.get(3)!.path, (doc) => raiseNodePrioAboveOthers(doc, 3).doc, { corosyncCheck: 'off' });
      return 'raised';
    });
    const newer = confText(7, [10, 20, 30]);
    g.queue.push({ from: 1, data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 7n, sha256: sha256Hex(newer), content: newer, from: 1, role: 'master', master: 1, since: null } }, KEY) });
    setTimeout(release, 50);
    await g.flush();
    expect(await edit).toBe('raised');
    // The edit wrote version 6 first, then the install replaced it with version 7; interleaved,
    // the edit would have raised the installed file to 8 and node 1's file would be lost.
    expect(await g.file(3)).toBe(newer);
    expect(await readFile(g.nodes.get(3)!.path + '.bak', 'utf8')).toMatch(/config_version: 6\n/);
  });

  describe('forged, malformed, oversized messages change nothing and are logged', () => {
    const newer = confText(99, [1, 2, 3]);
    const offerBody = { version: '99', sha256: sha256Hex(newer), content: newer, from: 1, role: 'master' as const, master: 1, since: null };
    const cases: Array<[string, Buffer, string]> = [
      ['bad signature (another key)', encodeConfigMessage({ type: CONFIG_OFFER, body: { ...offerBody, version: 99n } }, OTHER_KEY), 'bad-mac'],
      ['no signature', encodeMessage(CONFIG_OFFER, offerBody), 'bad-body'],
      ['sha256 not matching the content', encodeMessage(CONFIG_OFFER, { ...offerBody, sha256: '0'.repeat(64), mac: '0'.repeat(64) }), 'bad-body'],
      ['wrong schema (version as a number)', encodeMessage(CONFIG_OFFER, { ...offerBody, version: 99 }), 'bad-body'],
      ['extra field', encodeMessage(CONFIG_OFFER, { ...offerBody, extra: 1 }), 'bad-body'],
      ['unknown protocol version', Buffer.from(JSON.stringify({ proto: 'corolistener', v: 9, type: CONFIG_OFFER, body: offerBody })), 'unknown-version'],
      ['unknown type', encodeMessage('config.delete', {}), 'unknown-type'],
      ['not JSON', Buffer.from('config_version: 99'), 'not-json'],
      ['oversized', Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), 'too-large'],
    ];
    it.each(cases)('%s', async (_name, data, code) => {
      const g = await threeNodes();
      g.queue.push({ from: 1, data });
      await g.flush();
      for (const id of [2, 3]) {
        expect(await g.file(id)).toBe(confText(5));
        expect(g.nodes.get(id)!.log.lines.filter((l) => l.level !== 'info')).toEqual([{ level: 'warn', msg: 'cluster message rejected', obj: expect.objectContaining({ from: 1, code }) }]);
      }
      expect(g.queue).toEqual([]); // no ack, no reply
    });

    it('a correctly signed message whose claimed sender is not the CPG sender', async () => {
      const g = await threeNodes();
      g.queue.push({
        from: 3,
        data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 99n, sha256: sha256Hex(newer), content: newer, from: 1, role: 'master', master: 1, since: null } }, KEY),
      });
      await g.flush();
      expect(await g.file(2)).toBe(confText(5));
      expect(g.nodes.get(2)!.log.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'cluster message rejected', obj: expect.objectContaining({ from: 3, code: 'sender-mismatch', claimedFrom: 1 }) });
    });

    it('a content over the config size limit is refused even when signed', async () => {
      const g = await threeNodes();
      const big = confText(99) + '#'.repeat(200) + '\n'.repeat(1) + '# pad\n'.repeat(23000);
      g.queue.push({ from: 1, data: encodeMessage(CONFIG_OFFER, { version: '99', sha256: sha256Hex(big), content: big, from: 1, mac: '0'.repeat(64) }) });
      await g.flush();
      expect(await g.file(2)).toBe(confText(5));
      expect(g.nodes.get(2)!.log.lines.at(-1)?.obj).toMatchObject({ code: 'bad-body', error: expect.stringContaining('byte limit') });
    });
  });
});
