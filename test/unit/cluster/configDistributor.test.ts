// The distributor against a simulated CPG group: real files in temp dirs (our validation, atomic
// write with backup; `corosync -t` off because the test nodes are not this host), real message
// encoding and decoding (ConfigChannel), agreed-order delivery to every connected member,
// injected timers.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { editCorosyncConf, raiseNodePrioAboveOthers } from '../../../src/config';
import { ConfigChannel } from '../../../src/cluster/configChannel';
import type { ConfigDistributor } from '../../../src/cluster/configDistributor';
import { CONFIG_OFFER, encodeConfigMessage, sha256Hex } from '../../../src/cluster/configMessages';
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
  private constructor(readonly dir: string) {}

  static async create(): Promise<Group> {
    return new Group(await mkdtemp(join(tmpdir(), 'confdist-')));
  }

  async add(id: number, text: string, publisher?: () => boolean): Promise<TestNode> {
    const path = join(this.dir, `n${id}.conf`);
    await writeFile(path, text);
    const log = recordingLog();
    const node: TestNode = { id, path, log, reloads: 0, connected: true, deaf: false, installed: [], channel: undefined as unknown as ConfigChannel };
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
      write: { corosyncCheck: 'off' },
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

  /** What the engine's raisePriority effect does on the new master. */
  async raise(id: number): Promise<void> {
    await editCorosyncConf(this.nodes.get(id)!.path, (doc) => raiseNodePrioAboveOthers(doc, id).doc, { corosyncCheck: 'off' });
  }

  cleanup(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}

let group: Group;
afterEach(async () => {
  await group?.cleanup();
});

async function threeNodes(version = 5): Promise<Group> {
  group = await Group.create();
  for (const id of [1, 2, 3]) await group.add(id, confText(version));
  await group.confchg([1, 2, 3]);
  return group;
}

describe('ConfigDistributor', () => {
  it('distributes the master\'s new file to every member, which install it (backup kept) and ack; then one reload', async () => {
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

  it('two different files with the same version: every node keeps the one with the higher sha256, logged loudly', async () => {
    group = await Group.create();
    const g = group;
    const a = confText(6, [100, 90, 80]);
    const b = confText(6, [70, 101, 80]);
    const winner = sha256Hex(a) > sha256Hex(b) ? a : b;
    await g.add(1, a);
    await g.add(2, b);
    await g.add(3, confText(5));
    await g.confchg([1, 2, 3]);
    await g.nodes.get(1)!.channel.publishConfig({ configVersion: 6n });
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    for (const id of [1, 2, 3]) expect(await g.file(id)).toBe(winner);
    const loser = winner === a ? 1 : 2;
    expect(g.nodes.get(loser)!.log.lines.some((l) => l.level === 'error' && l.msg.startsWith('CONFLICT'))).toBe(true);
  });

  it('racing changes: a second master publishes while the first round is open; versions only grow, all files identical', async () => {
    const g = await threeNodes();
    await g.raise(3);
    await g.nodes.get(3)!.channel.publishConfig({ configVersion: 6n });
    // Node 3 is cut before anyone receives its offer; node 2 takes over from version 5.
    g.nodes.get(3)!.connected = false;
    g.queue.length = 0;
    await g.confchg();
    await g.raise(2);
    await g.nodes.get(2)!.channel.publishConfig({ configVersion: 6n });
    await g.flush();
    expect(await g.file(1)).toBe(await g.file(2));
    expect(await g.file(3)).not.toBe(await g.file(2));
    // Node 3 heals with its own version 6 (other content): same version, the conflict rule decides.
    g.nodes.get(3)!.connected = true;
    await g.confchg([3]);
    const files = await Promise.all([1, 2, 3].map((id) => g.file(id)));
    expect(new Set(files).size).toBe(1);
    expect(files[0]).toContain('config_version: 6');
    // A further takeover raises from the agreed file: 7 everywhere.
    await g.raise(1);
    await g.nodes.get(1)!.channel.publishConfig({ configVersion: 7n });
    await g.flush();
    const after = await Promise.all([1, 2, 3].map((id) => g.file(id)));
    expect(new Set(after).size).toBe(1);
    expect(after[0]).toContain('config_version: 7');
  });

  it('a member that joins with an older file announces it and gets the newest pushed by the publisher', async () => {
    group = await Group.create();
    const g = group;
    await g.add(1, confText(6, [100, 90, 80]), () => true);
    await g.add(2, confText(6, [100, 90, 80]), () => false);
    await g.confchg([1, 2]);
    await g.add(3, confText(5));
    await g.confchg([3]);
    expect(await g.file(3)).toBe(await g.file(1));
    expect(g.nodes.get(3)!.installed).toEqual([6n]);
    expect(g.nodes.get(1)!.reloads).toBe(1);
    expect(g.nodes.get(2)!.reloads).toBe(0);
  });

  it('a joiner holding the newest file learns from the others\' hellos that it must push (default publisher rule)', async () => {
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
      data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 6n, sha256: sha256Hex(bad), content: bad, from: 1 } }, KEY),
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
    g.queue.push({ from: 1, data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 6n, sha256: sha256Hex(text), content: text, from: 1 } }, KEY) });
    await g.flush();
    expect(await g.file(2)).toBe(confText(5));
  });

  describe('forged, malformed, oversized messages change nothing and are logged', () => {
    const newer = confText(99, [1, 2, 3]);
    const offerBody = { version: '99', sha256: sha256Hex(newer), content: newer, from: 1 };
    const cases: Array<[string, Buffer, string]> = [
      ['bad signature (another key)', encodeConfigMessage({ type: CONFIG_OFFER, body: { ...offerBody, version: 99n } }, OTHER_KEY), 'bad-mac'],
      ['no signature', encodeMessage(CONFIG_OFFER, offerBody), 'bad-body'],
      ['sha256 not matching the content', encodeMessage(CONFIG_OFFER, { ...offerBody, sha256: '0'.repeat(64), mac: '0'.repeat(64) }), 'bad-body'],
      ['wrong schema (version as a number)', encodeMessage(CONFIG_OFFER, { ...offerBody, version: 99 }), 'bad-body'],
      ['extra field', encodeMessage(CONFIG_OFFER, { ...offerBody, extra: 1 }), 'bad-body'],
      ['unknown protocol version', Buffer.from(JSON.stringify({ proto: 'corolistener', v: 2, type: CONFIG_OFFER, body: offerBody })), 'unknown-version'],
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
        expect(g.nodes.get(id)!.log.lines.filter((l) => l.level !== 'info')).toEqual([
          { level: 'warn', msg: 'cluster message rejected', obj: expect.objectContaining({ from: 1, code }) },
        ]);
      }
      expect(g.queue).toEqual([]); // no ack, no reply
    });

    it('a correctly signed message whose claimed sender is not the CPG sender', async () => {
      const g = await threeNodes();
      g.queue.push({ from: 3, data: encodeConfigMessage({ type: CONFIG_OFFER, body: { version: 99n, sha256: sha256Hex(newer), content: newer, from: 1 } }, KEY) });
      await g.flush();
      expect(await g.file(2)).toBe(confText(5));
      expect(g.nodes.get(2)!.log.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'config message rejected: sender nodeid differs from the one CPG reports' });
    });

    it('a content over the config size limit is refused even when signed', async () => {
      const g = await threeNodes();
      const big = confText(99) + '#'.repeat(200) + '\n'.repeat(1) + ('# pad\n'.repeat(23000));
      g.queue.push({ from: 1, data: encodeMessage(CONFIG_OFFER, { version: '99', sha256: sha256Hex(big), content: big, from: 1, mac: '0'.repeat(64) }) });
      await g.flush();
      expect(await g.file(2)).toBe(confText(5));
      expect(g.nodes.get(2)!.log.lines.at(-1)?.obj).toMatchObject({ code: 'bad-body', error: expect.stringContaining('byte limit') });
    });
  });
});
