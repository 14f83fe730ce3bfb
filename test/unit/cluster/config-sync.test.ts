// The config sync protocol (request/response codec), the TCP service over loopback, and
// `corolistener config sync` fetching from peers listening on 127.0.0.2/127.0.0.3.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import type { ClusterKey } from '../../../src/cluster/cluster-key';
import { sha256Hex } from '../../../src/cluster/config-messages';
import {
  ConfigSyncServer,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  fetchConfigFromPeer,
  MAX_REQUEST_BYTES,
  newNonce,
  REQUEST_WINDOW_MS,
  SyncProtocolError,
} from '../../../src/cluster/config-sync';
import { readLocalConfig } from '../../../src/cluster/local-config';
import { ConfigValidationError, MAX_CONFIG_FILE_BYTES } from '../../../src/config';
import { syncFromPeers } from '../../../src/cluster/sync-from-peers';
import { confText, KEY, OTHER_KEY, recordingLog } from './support';

const line = (b: Buffer) => b.subarray(0, b.length - 1);
const loopbackConf = (version: number, prios?: number[]) => confText(version, prios).replaceAll('198.18.0.', '127.0.0.');

function syncError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SyncProtocolError);
    return (err as Error).message;
  }
  throw new Error('expected a SyncProtocolError');
}

describe('sync protocol codec', () => {
  const now = 1_700_000_000_000;
  const req = { nonce: newNonce(), ts: now, have: 5n };

  it('accepts a signed, fresh request once; a replayed nonce is refused', () => {
    const seen = new Map<string, number>();
    expect(decodeRequest(line(encodeRequest(req, KEY)), KEY, now + 10, seen)).toEqual(req);
    expect(syncError(() => decodeRequest(line(encodeRequest(req, KEY)), KEY, now + 20, seen))).toBe('request: replayed nonce');
  });

  it('refuses a request signed with another key, a stale timestamp, an oversized or malformed one', () => {
    const seen = new Map<string, number>();
    expect(syncError(() => decodeRequest(line(encodeRequest(req, OTHER_KEY)), KEY, now, seen))).toMatch(/bad MAC/);
    expect(syncError(() => decodeRequest(line(encodeRequest(req, KEY)), KEY, now + REQUEST_WINDOW_MS + 1, seen))).toMatch(/timestamp/);
    expect(syncError(() => decodeRequest(Buffer.alloc(MAX_REQUEST_BYTES + 1, 0x20), KEY, now, seen))).toMatch(/over the 4096-byte limit/);
    const raw = JSON.parse(line(encodeRequest(req, KEY)).toString());
    expect(syncError(() => decodeRequest(Buffer.from(JSON.stringify({ ...raw, v: 2 })), KEY, now, seen))).toMatch(/protocol version 2/);
    expect(syncError(() => decodeRequest(Buffer.from(JSON.stringify({ ...raw, have: 5 })), KEY, now, seen))).toMatch(/have must be/);
    expect(syncError(() => decodeRequest(Buffer.from('nope'), KEY, now, seen))).toBe('request is not JSON');
    expect(seen.size).toBe(0); // nothing refused consumed a nonce
  });

  it("binds the response to the client's nonce and verifies MAC and digest", () => {
    const content = loopbackConf(6);
    const res = { nonce: req.nonce, version: 6n, sha256: sha256Hex(content), content };
    expect(decodeResponse(line(encodeResponse(res, KEY)), KEY, req.nonce)).toEqual(res);
    expect(syncError(() => decodeResponse(line(encodeResponse(res, KEY)), KEY, newNonce()))).toMatch(/nonce mismatch/);
    expect(syncError(() => decodeResponse(line(encodeResponse(res, OTHER_KEY)), KEY, req.nonce))).toMatch(/bad MAC/);
    const wrongDigest = { ...res, sha256: sha256Hex('other') };
    expect(syncError(() => decodeResponse(line(encodeResponse(wrongDigest, KEY)), KEY, req.nonce))).toMatch(/sha256 does not match/);
    const forgedVersion = JSON.parse(line(encodeResponse(res, KEY)).toString());
    forgedVersion.version = '99';
    expect(syncError(() => decodeResponse(Buffer.from(JSON.stringify(forgedVersion)), KEY, req.nonce))).toMatch(/bad MAC/);
  });
});

describe('readLocalConfig', () => {
  it('reads version, digest and text; refuses a file over the 1 MiB configuration limit, naming it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'corolistener-localconfig-'));
    try {
      const path = join(dir, 'corosync.conf');
      const text = loopbackConf(7);
      await writeFile(path, text);
      expect(await readLocalConfig(path)).toEqual({ version: 7n, sha256: sha256Hex(text), content: text });
      await writeFile(path, text + `# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`);
      const error = await readLocalConfig(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigValidationError);
      expect(String((error as ConfigValidationError).errors[0])).toMatch(new RegExp(`^${path}:\\d+:1: \\(file\\): file is larger than ${MAX_CONFIG_FILE_BYTES} bytes`));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('ConfigSyncServer and config sync over loopback', () => {
  let dir: string;
  let servers: ConfigSyncServer[];
  let port: number;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'confsync-'));
    servers = [];
    port = 0;
  });
  afterEach(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  /** A peer at 127.0.0.N serving `text` with `key`; every peer on the same port. */
  async function peer(n: number, text: string, key: ClusterKey = KEY) {
    const path = join(dir, `peer${n}.conf`);
    await writeFile(path, text);
    const log = recordingLog();
    const server = new ConfigSyncServer({ key, readLocal: () => readLocalConfig(path), host: `127.0.0.${n}`, port, log });
    servers.push(server);
    port = await server.listen();
    return log;
  }

  async function own(text: string): Promise<string> {
    const path = join(dir, 'corosync.conf');
    await writeFile(path, text);
    return path;
  }

  const sync = (confPath: string) => syncFromPeers({ confPath, key: KEY, port, timeoutMs: 2000, localAddresses: ['127.0.0.1'], write: { corosyncCheck: 'off' } });

  it('a client fetches the file; a request signed with another key is refused and logged', async () => {
    const log = await peer(2, loopbackConf(6));
    const res = await fetchConfigFromPeer({ key: KEY, host: '127.0.0.2', port, have: 5n });
    expect(res.version).toBe(6n);
    expect(res.content).toBe(loopbackConf(6));
    await expect(fetchConfigFromPeer({ key: OTHER_KEY, host: '127.0.0.2', port, have: 5n })).rejects.toThrow(/peer refused: request: bad MAC/);
    expect(log.lines.at(-1)).toMatchObject({ level: 'warn', msg: 'config sync: request rejected' });
  });

  it('the server refuses a replayed request and an oversized one', async () => {
    const log = await peer(2, loopbackConf(6));
    const request = encodeRequest({ nonce: newNonce(), ts: Date.now(), have: 5n }, KEY);
    const ask = (data: Buffer) =>
      new Promise<string>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const s = net.connect({ host: '127.0.0.2', port }, () => s.write(data));
        s.on('data', (c) => chunks.push(c))
          .on('end', () => resolve(Buffer.concat(chunks).toString()))
          .on('error', reject);
      });
    expect(JSON.parse(await ask(request)).type).toBe('response');
    expect(JSON.parse(await ask(request))).toMatchObject({ type: 'error', error: 'request: replayed nonce' });
    expect(JSON.parse(await ask(Buffer.alloc(MAX_REQUEST_BYTES + 10, 0x20)))).toMatchObject({ type: 'error', error: expect.stringMatching(/byte limit/) });
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('installs the newest file among the peers, keeping the old one as .bak', async () => {
    await peer(2, loopbackConf(6));
    await peer(3, loopbackConf(7, [10, 20, 30]));
    const path = await own(loopbackConf(5));
    const outcome = await sync(path);
    expect(outcome).toMatchObject({ status: 'installed', from: '127.0.0.3', previous: 5n, version: 7n });
    expect(await readFile(path, 'utf8')).toBe(loopbackConf(7, [10, 20, 30]));
    expect(await readFile(path + '.bak', 'utf8')).toBe(loopbackConf(5));
  });

  it('leaves the file as it is when it is up to date, or the peer is older', async () => {
    await peer(2, loopbackConf(4));
    const path = await own(loopbackConf(5));
    expect(await sync(path)).toMatchObject({ status: 'up-to-date', version: 5n });
    expect(await readFile(path, 'utf8')).toBe(loopbackConf(5));
  });

  it('with no peer reachable, or only peers with another key, leaves the file and says so', async () => {
    const path = await own(loopbackConf(5));
    port = 1; // nothing listens there
    const none = await sync(path);
    expect(none.status).toBe('no-peer');
    expect(none.peers.map((p) => p.peer)).toEqual(['127.0.0.2', '127.0.0.3']);
    expect(none.peers.every((p) => p.error !== undefined)).toBe(true);
    port = 0;
    await peer(2, loopbackConf(9), OTHER_KEY);
    const forged = await sync(path);
    expect(forged.status).toBe('no-peer');
    expect(forged.peers.find((p) => p.peer === '127.0.0.2')?.error).toMatch(/bad MAC/);
    expect(await readFile(path, 'utf8')).toBe(loopbackConf(5));
  });

  it('config sync --from HOST bootstraps a node without corosync.conf; a silent HOST is an error', async () => {
    await peer(2, loopbackConf(9));
    const confPath = join(dir, 'new-node', 'corosync.conf');
    await import('node:fs/promises').then((fs) => fs.mkdir(join(dir, 'new-node')));
    await expect(syncFromPeers({ confPath, key: KEY, port, timeoutMs: 2000, localAddresses: ['127.0.0.1'], write: { corosyncCheck: 'off' } })).rejects.toThrow(/no such file/);
    const outcome = await syncFromPeers({ confPath, key: KEY, port, timeoutMs: 2000, from: '127.0.0.2', write: { corosyncCheck: 'off' } });
    expect(outcome).toMatchObject({ status: 'installed', from: '127.0.0.2', previous: 0n, version: 9n });
    expect(await readFile(confPath, 'utf8')).toBe(loopbackConf(9));
    const silent = await syncFromPeers({ confPath: join(dir, 'other.conf'), key: KEY, port, timeoutMs: 500, from: '127.0.0.3', write: { corosyncCheck: 'off' } });
    expect(silent.status).toBe('no-peer');
  });

  it('refuses a signed file that fails validation; nothing is written', async () => {
    // A peer whose file was hand-edited into an invalid one still signs what it serves.
    const bad = loopbackConf(6).replace('prio: 90', 'prio: 9 0');
    const server = new ConfigSyncServer({
      key: KEY,
      readLocal: async () => ({ version: 6n, sha256: sha256Hex(bad), content: bad }),
      host: '127.0.0.2',
      port: 0,
      log: recordingLog(),
    });
    servers.push(server);
    port = await server.listen();
    const path = await own(loopbackConf(5));
    await expect(sync(path)).rejects.toThrow(/nodelist\.node\[1\]\.prio/);
    expect(await readFile(path, 'utf8')).toBe(loopbackConf(5));
  });

  it('corolistener config sync: installs, or warns and exits 0 without a peer', async () => {
    const keyFile = join(dir, 'key');
    await writeFile(keyFile, Buffer.alloc(64, 7));
    await peer(2, loopbackConf(6));
    const path = await own(loopbackConf(5));
    const run = async (argv: string[]) => {
      let stdout = '';
      let stderr = '';
      const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
      return { code: await main(argv, io), stdout, stderr };
    };
    // 127.0.0.1 is this host's own address in the file, so only .2 and .3 are asked.
    const out = await run(['config', 'sync', '--corosync-conf', path, '--key', keyFile, '--port', String(port), '--timeout', '2000']);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toBe(`config sync: installed config_version 6 from 127.0.0.2 (was 5; previous file kept as .bak)\n`);
    await Promise.all(servers.splice(0).map((s) => s.close()));
    const alone = await run(['config', 'sync', '--corosync-conf', path, '--key', keyFile, '--port', String(port), '--timeout', '500']);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toMatch(/^corolistener: warning: config sync: no peer answered; .* left as it is \(config_version 6\)\n/);
    const noKey = await run(['config', 'sync', '--corosync-conf', path, '--key', join(dir, 'missing')]);
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/cannot read the cluster key file: .*missing.*: no such file .*--key FILE/);
  });
});

describe('corolistener config show', () => {
  it('prints the typed view of corosync.conf and vmmgr.conf, or JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'confshow-'));
    try {
      const conf = join(dir, 'corosync.conf');
      await writeFile(conf, loopbackConf(5));
      await writeFile(join(dir, 'vmmgr.conf'), 'CloudIp 198.18.0.100\nCloudMask 24\n');
      let stdout = '';
      const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: () => true }, env: {} };
      expect(await main(['config', 'show', '--corosync-conf', conf, '--vmmgr-conf', join(dir, 'vmmgr.conf')], io)).toBe(0);
      expect(stdout.split('\n')).toEqual([
        `${conf}: cluster VMmanager, config_version 5`,
        '  node 1  127.0.0.1  prio 100  replication on',
        '  node 2  127.0.0.2  prio 90  replication on',
        '  node 3  127.0.0.3  prio 80  replication on',
        `${join(dir, 'vmmgr.conf')}: CloudIp 198.18.0.100/24 on vmbr0`,
        '',
      ]);
      stdout = '';
      expect(await main(['config', 'show', '--json', '--corosync-conf', conf, '--vmmgr-conf', join(dir, 'none.conf')], io)).toBe(0);
      const json = JSON.parse(stdout);
      expect(json.corosync.configVersion).toBe('5');
      expect(json.corosync.nodes.map((n: { prio: number }) => n.prio)).toEqual([100, 90, 80]);
      expect(json.vmmgr).toBeNull();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
