// The config sync service's network edges (issue 18): a flood of idle connections from an
// address outside the nodelist is disconnected at once, an idle allowed peer is dropped after
// the request deadline, connections are bounded, and a real request still gets its answer.
// Loopback only (127.0.0.x), every socket closed at the end.
import * as net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/cluster/config-messages';
import { ConfigSyncServer, fetchConfigFromPeer, plainAddress } from '../../../src/cluster/config-sync';
import { confText, KEY, recordingLog } from './support';

const opened: net.Socket[] = [];
let server: ConfigSyncServer | undefined;

afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

async function start(allow: string[], requestTimeoutMs = 300): Promise<{ port: number; log: ReturnType<typeof recordingLog> }> {
  const content = confText(7);
  const log = recordingLog();
  server = new ConfigSyncServer({
    key: KEY,
    readLocal: async () => ({ version: 7n, sha256: sha256Hex(content), content }),
    host: '127.0.0.1',
    port: 0,
    log,
    requestTimeoutMs,
    allowPeer: (a) => allow.includes(a),
    maxConnections: 8,
  });
  return { port: await server.listen(), log };
}

/** Opens an idle connection from `from`; resolves when the server has closed it (or after `ms`: 'open'). */
function idle(port: number, from: string): Promise<'closed'> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: from });
    opened.push(s);
    s.on('error', () => {});
    s.on('close', () => resolve('closed'));
    s.resume();
  });
}

it('plainAddress strips the IPv4-mapped prefix only', () => {
  expect(plainAddress('::ffff:10.0.0.1')).toBe('10.0.0.1');
  expect(plainAddress('fe80::1')).toBe('fe80::1');
  expect(plainAddress(undefined)).toBe('');
});

it('disconnects a flood from outside the nodelist at once, drops idle allowed peers after the deadline, and still serves', async () => {
  const { port, log } = await start(['127.0.0.2'], 300);
  // 300 idle connections from 127.0.0.3: each closed by the server without waiting for a byte.
  const flood = await Promise.all(Array.from({ length: 300 }, () => idle(port, '127.0.0.3')));
  expect(flood.every((r) => r === 'closed')).toBe(true);
  // One summary line, not one per connection.
  expect(log.lines.filter((l) => /refused \d+ connection/.test(l.msg)).length).toBeLessThanOrEqual(2);
  // An allowed peer that sends nothing is dropped after the request deadline.
  expect(await idle(port, '127.0.0.2')).toBe('closed');
  // A real request from the allowed address is answered.
  const answer = await fetchConfigFromPeer({ key: KEY, host: '127.0.0.1', port, have: 1n, timeoutMs: 10_000, localAddress: '127.0.0.2' });
  expect(answer.version).toBe(7n);
});
