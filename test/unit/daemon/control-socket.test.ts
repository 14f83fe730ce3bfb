import { linkSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlSocketError, queryDaemon, startControlSocket, type ControlCommand, type ControlSocketServer } from '../../../src/daemon/control-socket';

let dir: string;
let sockPath: string;
const servers: ControlSocketServer[] = [];
const extraServers: net.Server[] = [];
const extraConnections = new Set<net.Socket>();

/** A plain server standing in for something that is not our daemon; cleaned up after each test. */
async function impostor(onConnection: (socket: net.Socket) => void): Promise<void> {
  const server = net.createServer((socket) => {
    extraConnections.add(socket);
    onConnection(socket);
  });
  extraServers.push(server);
  await new Promise<void>((r) => server.listen(sockPath, r));
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corolistener-sock-'));
  sockPath = join(dir, 'control.sock');
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  // A server that never reads never sees the client's EOF: destroy its side explicitly.
  for (const c of extraConnections) c.destroy();
  extraConnections.clear();
  await Promise.all(extraServers.splice(0).map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

const STATUS = { daemon: { pid: 1, role: 'master' }, report: { nodes: [] } };

async function start(handler: (cmd: ControlCommand) => unknown = (cmd) => (cmd === 'status' ? STATUS : { nodes: [] }), extra = {}) {
  const errors: string[] = [];
  const server = await startControlSocket({ path: sockPath, handler, onClientError: (m) => errors.push(m), ...extra });
  servers.push(server);
  return { server, errors };
}

/**
 * Sends raw bytes and collects what the server sends until it closes the connection, or
 * `untilLines` response lines arrived (connection left open), or timeoutMs passed.
 */
function raw(payload: string | Buffer, untilLines = Infinity, timeoutMs = 2000): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: sockPath });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, timeoutMs);
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (d) => {
      text += d.toString();
      if (text.split('\n').length - 1 >= untilLines) {
        clearTimeout(timer);
        socket.removeAllListeners('close');
        socket.destroy();
        resolve({ text, closed: false });
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => (e.code === 'EPIPE' || e.code === 'ECONNRESET' ? undefined : reject(e)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
  });
}

function responses(text: string): unknown[] {
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

async function rejection(p: Promise<unknown>): Promise<ControlSocketError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ControlSocketError);
  return err as ControlSocketError;
}

describe('control socket server', () => {
  it('creates the socket file with mode 0600, owned by the running user', async () => {
    await start();
    const st = lstatSync(sockPath);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
  });

  it('answers status and nodes through queryDaemon', async () => {
    await start();
    expect(await queryDaemon(sockPath, 'status', 1000)).toEqual(STATUS);
    expect(await queryDaemon(sockPath, 'nodes', 1000)).toEqual({ nodes: [] });
  });

  it('answers several requests on one connection in order', async () => {
    let calls = 0;
    await start(async (cmd) => {
      calls++;
      // The first request is the slowest: order must still be kept.
      await new Promise((r) => setTimeout(r, cmd === 'status' ? 50 : 0));
      return cmd;
    });
    const { text } = await raw('{"cmd":"status"}\n{"cmd":"nodes"}\n\n{"cmd":"status"}\n', 3);
    expect(responses(text)).toEqual([
      { ok: true, result: 'status' },
      { ok: true, result: 'nodes' },
      { ok: true, result: 'status' },
    ]);
    expect(calls).toBe(3);
  });

  it('refuses an oversized request with an error and closes the connection, then keeps serving', async () => {
    const { errors } = await start(undefined, { maxRequestBytes: 4096 });
    const big = `{"cmd":"status","pad":"${'x'.repeat(5000)}"}\n`;
    const { text, closed } = await raw(big);
    expect(closed).toBe(true);
    expect(responses(text)).toEqual([{ ok: false, error: 'request too large (limit 4096 bytes)' }]);
    expect(errors).toContain('request too large (limit 4096 bytes)');
    // A flood without any newline is cut off too, not buffered forever.
    const flood = await raw(Buffer.alloc(64 * 1024, 'a'));
    expect(flood.closed).toBe(true);
    expect(responses(flood.text)).toEqual([{ ok: false, error: 'request too large (limit 4096 bytes)' }]);
    expect(await queryDaemon(sockPath, 'status', 1000)).toEqual(STATUS);
  });

  it('closes a connection that pipelines too many requests without waiting for answers', async () => {
    await start(() => new Promise((r) => setTimeout(() => r('late'), 100)));
    const { text, closed } = await raw('{"cmd":"nodes"}\n'.repeat(100));
    expect(closed).toBe(true);
    expect(responses(text)).toEqual([{ ok: false, error: 'too many pending requests (limit 16 per connection)' }]);
  });

  it('accepts a request of exactly the limit', async () => {
    await start(undefined, { maxRequestBytes: 100 });
    const line = `{"cmd":"nodes","pad":"${'x'.repeat(100 - 24)}"}`;
    expect(Buffer.byteLength(line)).toBe(100);
    const { text } = await raw(`${line}\n`, 1);
    expect(responses(text)).toEqual([{ ok: true, result: { nodes: [] } }]);
  });

  it('refuses garbage and non-object JSON by closing the connection, and survives', async () => {
    await start();
    for (const [payload, error] of [
      ['hello\n', 'request is not valid JSON'],
      ['\u0000\u00ff{{{\n', 'request is not valid JSON'],
      ['[1,2]\n', 'request must be a JSON object'],
      ['"status"\n', 'request must be a JSON object'],
    ] as const) {
      const { text, closed } = await raw(payload);
      expect(closed).toBe(true);
      expect(responses(text)).toEqual([{ ok: false, error }]);
    }
    expect(await queryDaemon(sockPath, 'nodes', 1000)).toEqual({ nodes: [] });
  });

  it('answers an unknown command with an error and keeps the connection usable', async () => {
    await start();
    const { text, closed } = await raw('{"cmd":"reboot"}\n{"cmd":"nodes"}\n', 2);
    expect(closed).toBe(false);
    expect(responses(text)).toEqual([
      { ok: false, error: 'unknown command "reboot"; known: status, nodes, operate' },
      { ok: true, result: { nodes: [] } },
    ]);
  });

  it('turns a failing, hanging or unserialisable handler into an error response', async () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await start(
      (cmd) => {
        if (cmd === 'status') throw new Error('engine not ready');
        return new Promise(() => {});
      },
      { handlerTimeoutMs: 100 },
    );
    expect((await rejection(queryDaemon(sockPath, 'status', 1000))).message).toBe('daemon: engine not ready');
    const hung = await rejection(queryDaemon(sockPath, 'nodes', 1000));
    expect(hung.code).toBe('daemon-error');
    expect(hung.message).toBe('daemon: daemon did not answer nodes within 100 ms');
    await servers.pop()!.close();
    await start(() => cyclic);
    expect((await rejection(queryDaemon(sockPath, 'nodes', 1000))).message).toMatch(/^daemon: cannot serialise response/);
  });

  it('closes idle connections', async () => {
    await start(undefined, { idleTimeoutMs: 100 });
    const { closed } = await raw('');
    expect(closed).toBe(true);
  });

  it('removes a stale socket file nobody answers on', async () => {
    // A hard link keeps the socket inode after its server is gone: a crashed daemon's leftover.
    const first = net.createServer();
    const tmp = join(dir, 'first.sock');
    await new Promise<void>((r) => first.listen(tmp, r));
    linkSync(tmp, sockPath);
    await new Promise((r) => first.close(r));
    expect(lstatSync(sockPath).isSocket()).toBe(true);
    expect(await queryDaemon(sockPath, 'status', 500)).toBeUndefined();

    await start();
    expect(await queryDaemon(sockPath, 'status', 1000)).toEqual(STATUS);
  });

  it('refuses to start while another daemon answers, and leaves it alone', async () => {
    await start();
    const err = await rejection(startControlSocket({ path: sockPath, handler: () => 'second' }));
    expect(err.code).toBe('in-use');
    expect(err.message).toContain(sockPath);
    expect(await queryDaemon(sockPath, 'status', 1000)).toEqual(STATUS);
  });

  it('refuses to replace a path that is not a socket', async () => {
    writeFileSync(sockPath, 'precious');
    const err = await rejection(startControlSocket({ path: sockPath, handler: () => 1 }));
    expect(err.code).toBe('not-a-socket');
    expect(readFileSync(sockPath, 'utf8')).toBe('precious');
  });

  it('removes its socket file on close, and close is idempotent', async () => {
    const { server } = await start();
    await Promise.all([server.close(), server.close()]);
    expect(() => lstatSync(sockPath)).toThrow(/ENOENT/);
    expect(await queryDaemon(sockPath, 'status', 500)).toBeUndefined();
  });
});

describe('queryDaemon', () => {
  it('returns undefined when there is no socket file', async () => {
    expect(await queryDaemon(join(dir, 'missing.sock'), 'status', 500)).toBeUndefined();
  });

  it('times out with a clear error when something listens but never answers', async () => {
    await impostor(() => {});
    const started = Date.now();
    const err = await rejection(queryDaemon(sockPath, 'status', 200));
    expect(err.code).toBe('timeout');
    expect(err.message).toBe(`corolistener daemon on ${sockPath} did not answer within 200 ms`);
    expect(Date.now() - started).toBeLessThan(30_000); // never answered: would hang until the test's own limit
  });

  it('rejects a response that is not a control socket response', async () => {
    await impostor((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
    expect((await rejection(queryDaemon(sockPath, 'status', 1000))).code).toBe('protocol');
  });

  it('rejects when the peer hangs up without answering', async () => {
    await impostor((s) => s.end());
    const err = await rejection(queryDaemon(sockPath, 'nodes', 1000));
    expect(err.code).toBe('protocol');
    expect(err.message).toContain('closed the connection without answering');
  });
});
