// The daemon's control socket: a unix socket where the CLI (`corolistener -l`, `status`)
// asks the running daemon what it knows, so the table shows the daemon's decisions and not
// a second, possibly different, reading of corosync.
//
// Protocol: newline-delimited JSON. A request is one line `{"cmd":"status"}` or
// `{"cmd":"nodes"}`; each gets one response line, in order:
//   {"ok":true,"result":...}   or   {"ok":false,"error":"..."}
// A connection may carry several requests. A line that is too long or not a JSON request
// object is a protocol violation: the server answers with an error and closes that
// connection. An unknown command or a failing handler only gets an error response. Nothing
// a client sends can crash the daemon.
//
// Access: the socket file is created with mode 0600 (owner = the daemon's user, root in
// production), so only that user can connect (connect(2) on a unix socket needs write
// permission on the file).
import { lstat, chmod, unlink } from 'node:fs/promises';
import * as net from 'node:net';

export const CONTROL_COMMANDS = ['status', 'nodes', 'operate'] as const;
export type ControlCommand = (typeof CONTROL_COMMANDS)[number];

/**
 * Answers one request; the daemon injects it. `status` must answer a StatusReport and
 * `nodes` a NodeListReport (src/daemon/report), which the CLI validates. The result must be
 * JSON-serialisable; a throw or rejection becomes an error response.
 */
export type ControlHandler = (cmd: ControlCommand, request: Record<string, unknown>) => unknown;

/**
 * `operate` (an operator's command, issue 18) may wait for a hand-over: its handler gets the
 * client's `timeoutMs` (bounded) plus this much, instead of handlerTimeoutMs.
 */
const OPERATE_GRACE_MS = 5_000;
const OPERATE_MAX_MS = 600_000;

export type ControlResponse = { ok: true; result: unknown } | { ok: false; error: string };

export interface ControlSocketOptions {
  path: string;
  handler: ControlHandler;
  /** Longest request line accepted, newline excluded. */
  maxRequestBytes?: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs?: number;
  /**
   * A request line must be complete this long after its first byte. Without it a client
   * dribbling one byte at a time (slowloris) would reset the idle timeout forever and, with
   * maxConnections such clients, lock the CLI out.
   */
  requestTimeoutMs?: number;
  /** A handler that has not answered after this long gets an error response instead. */
  handlerTimeoutMs?: number;
  /** At most this many clients at once; more are refused by the kernel/Node. */
  maxConnections?: number;
  /** How long to wait for an answer on an existing socket file before calling it stale. */
  probeTimeoutMs?: number;
  /** Told about protocol violations and handler failures (the daemon passes its logger). */
  onClientError?: (message: string) => void;
}

export const DEFAULT_MAX_REQUEST_BYTES = 4096;
/** After an error response, how long the client has to read it before the connection is destroyed. */
const FAILED_CONNECTION_GRACE_MS = 1_000;
/** Requests queued on one connection before the server gives up on that client. */
const MAX_PENDING_REQUESTS = 16;

export class ControlSocketError extends Error {
  constructor(
    readonly code:
      | 'in-use' // another daemon answers on the path
      | 'not-a-socket' // the path exists and is not a socket: we do not delete it
      | 'timeout' // the daemon did not answer in time
      | 'access' // permission denied on the socket
      | 'protocol' // the peer sent something that is not a valid response
      | 'daemon-error' // the daemon answered with an error
      | 'io', // any other socket error
    message: string,
  ) {
    super(message);
    this.name = 'ControlSocketError';
  }
}

export interface ControlSocketServer {
  readonly path: string;
  /** Stops listening, closes every client connection and removes the socket file. */
  close(): Promise<void>;
}

/** What an existing socket file leads to. */
async function probe(path: string, timeoutMs: number): Promise<'answers' | 'stale' | 'absent'> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path });
    const timer = setTimeout(() => {
      // Connected-but-silent is impossible here (we only wait for connect): a connect that
      // hangs means a listener with a full backlog, i.e. someone is there.
      socket.destroy();
      resolve('answers');
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('answers');
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else if (err.code === 'ENOENT') resolve('absent');
      else reject(new ControlSocketError('io', `cannot probe control socket ${path}: ${err.message}`));
    });
  });
}

async function removeStaleSocket(path: string, probeTimeoutMs: number): Promise<void> {
  let stat;
  try {
    stat = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (!stat.isSocket()) {
    throw new ControlSocketError('not-a-socket', `control socket path ${path} exists and is not a socket; not removing it`);
  }
  const state = await probe(path, probeTimeoutMs);
  if (state === 'answers') {
    throw new ControlSocketError('in-use', `another corolistener daemon answers on ${path}; refusing to start a second one`);
  }
  if (state === 'stale') await unlink(path).catch(ignoreEnoent);
}

function ignoreEnoent(err: NodeJS.ErrnoException): void {
  if (err.code !== 'ENOENT') throw err;
}

/** Binds with umask 0177 so the socket file is 0600 from its first instant, not after a chmod. */
function listenPrivately(server: net.Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err);
    server.once('error', onError);
    let previous: number | undefined;
    try {
      previous = process.umask(0o177);
    } catch {
      // process.umask(mask) throws in worker threads; the chmod after listen still applies.
    }
    try {
      // In the main thread the bind happens synchronously inside listen(), so the umask
      // window covers it and nothing else.
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      if (previous !== undefined) process.umask(previous);
    }
  });
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function answer(handler: ControlHandler, line: string, handlerTimeoutMs: number): Promise<{ response: ControlResponse; close: boolean }> {
  let request: unknown;
  try {
    request = JSON.parse(line);
  } catch {
    return { response: { ok: false, error: 'request is not valid JSON' }, close: true };
  }
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return { response: { ok: false, error: 'request must be a JSON object' }, close: true };
  }
  const cmd = (request as { cmd?: unknown }).cmd;
  if (typeof cmd !== 'string' || !(CONTROL_COMMANDS as readonly string[]).includes(cmd)) {
    return {
      response: {
        ok: false,
        error: `unknown command ${JSON.stringify(cmd)}; known: ${CONTROL_COMMANDS.join(', ')}`,
      },
      close: false,
    };
  }
  let timer: NodeJS.Timeout | undefined;
  const fields = request as Record<string, unknown>;
  const asked = typeof fields.timeoutMs === 'number' && Number.isFinite(fields.timeoutMs) ? Math.min(Math.max(fields.timeoutMs, 0), OPERATE_MAX_MS) : 60_000;
  const limitMs = cmd === 'operate' ? asked + OPERATE_GRACE_MS : handlerTimeoutMs;
  try {
    const result = await Promise.race([
      Promise.resolve().then(() => handler(cmd as ControlCommand, fields)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`daemon did not answer ${cmd} within ${limitMs} ms`)), limitMs);
      }),
    ]);
    return { response: { ok: true, result }, close: false };
  } catch (err) {
    return { response: { ok: false, error: errorMessage(err) }, close: false };
  } finally {
    clearTimeout(timer);
  }
}

function serialise(response: ControlResponse): string {
  try {
    return `${JSON.stringify(response)}\n`;
  } catch (err) {
    // A handler result that cannot be serialised (a cycle, a BigInt) is the daemon's bug;
    // the client still gets an answer.
    return `${JSON.stringify({ ok: false, error: `cannot serialise response: ${errorMessage(err)}` })}\n`;
  }
}

function serveConnection(socket: net.Socket, options: Required<Omit<ControlSocketOptions, 'onClientError'>> & Pick<ControlSocketOptions, 'onClientError'>): void {
  let buffered = '';
  let bufferedBytes = 0;
  let closing = false;
  // Requests on one connection are answered strictly in order.
  let queue: Promise<void> = Promise.resolve();
  // A client pipelining requests without reading the answers must not grow our memory.
  let pending = 0;

  // Armed while a partial request line is buffered; see requestTimeoutMs.
  let requestTimer: NodeJS.Timeout | undefined;

  const report = (message: string) => options.onClientError?.(message);
  const fail = (error: string) => {
    if (closing) return;
    closing = true;
    report(error);
    socket.end(serialise({ ok: false, error }));
    // end() only half-closes: a client that neither reads nor closes, and keeps writing (which
    // resets the idle timeout), must not keep its connection slot.
    setTimeout(() => socket.destroy(), FAILED_CONNECTION_GRACE_MS).unref();
  };

  socket.setEncoding('utf8');
  socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
  socket.on('close', () => clearTimeout(requestTimer));
  socket.on('error', (err) => report(`control socket client error: ${err.message}`));
  socket.on('data', (chunk: string) => {
    if (closing) return;
    let start = 0;
    for (let nl = chunk.indexOf('\n'); nl !== -1; nl = chunk.indexOf('\n', start)) {
      const piece = chunk.slice(start, nl);
      start = nl + 1;
      bufferedBytes += Buffer.byteLength(piece);
      if (bufferedBytes > options.maxRequestBytes) {
        fail(`request too large (limit ${options.maxRequestBytes} bytes)`);
        return;
      }
      const line = buffered + piece;
      buffered = '';
      bufferedBytes = 0;
      if (line.trim() === '') continue;
      if (++pending > MAX_PENDING_REQUESTS) {
        fail(`too many pending requests (limit ${MAX_PENDING_REQUESTS} per connection)`);
        return;
      }
      queue = queue.then(async () => {
        pending--;
        if (closing || socket.destroyed) return;
        // A request being answered is not an idle connection (an `operate` may wait a minute).
        socket.setTimeout(0);
        const { response, close } = await answer(options.handler, line, options.handlerTimeoutMs);
        if (socket.destroyed) return;
        socket.setTimeout(options.idleTimeoutMs);
        if (close) fail(response.ok ? 'protocol error' : response.error);
        else {
          if (!response.ok) report(`control request failed: ${response.error}`);
          socket.write(serialise(response));
        }
      });
    }
    const rest = chunk.slice(start);
    bufferedBytes += Buffer.byteLength(rest);
    buffered += rest;
    if (bufferedBytes > options.maxRequestBytes) {
      fail(`request too large (limit ${options.maxRequestBytes} bytes)`);
      return;
    }
    if (buffered === '') {
      clearTimeout(requestTimer);
      requestTimer = undefined;
    } else {
      requestTimer ??= setTimeout(() => {
        fail(`request not completed within ${options.requestTimeoutMs} ms`);
      }, options.requestTimeoutMs);
    }
  });
}

/**
 * Starts the control socket server. An existing socket file is removed only when nobody
 * answers on it (a crashed daemon's leftover); if a daemon answers, or the path is not a
 * socket, this rejects with a ControlSocketError and touches nothing.
 */
export async function startControlSocket(options: ControlSocketOptions): Promise<ControlSocketServer> {
  const opts = {
    maxRequestBytes: DEFAULT_MAX_REQUEST_BYTES,
    idleTimeoutMs: 10_000,
    requestTimeoutMs: 5_000,
    handlerTimeoutMs: 5_000,
    maxConnections: 32,
    probeTimeoutMs: 1_000,
    ...options,
  };
  await removeStaleSocket(opts.path, opts.probeTimeoutMs);

  const clients = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    clients.add(socket);
    socket.on('close', () => clients.delete(socket));
    serveConnection(socket, opts);
  });
  server.maxConnections = opts.maxConnections;
  server.on('error', (err) => opts.onClientError?.(`control socket server error: ${err.message}`));
  try {
    await listenPrivately(server, opts.path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE') {
      // Another daemon bound the path between our probe and our bind.
      throw new ControlSocketError('in-use', `another process bound ${opts.path} while we were starting`);
    }
    throw new ControlSocketError('io', `cannot listen on control socket ${opts.path}: ${e.message}`);
  }
  await chmod(opts.path, 0o600);
  const { ino } = await lstat(opts.path);

  let closed: Promise<void> | undefined;
  return {
    path: opts.path,
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const client of clients) client.destroy();
        await stopped;
        // Remove the file only if it is still ours (a newer daemon may own the path now).
        const current = await lstat(opts.path).catch(() => undefined);
        if (current?.ino === ino) await unlink(opts.path).catch(ignoreEnoent);
      })();
      return closed;
    },
  };
}

/** Largest response the client accepts (a node list of a few hundred nodes is far below). */
const MAX_RESPONSE_BYTES = 1 << 20;

/**
 * Sends one request to the daemon and returns its result. Resolves `undefined` when no
 * daemon is there (no socket file, or a stale one nobody listens on), so callers can fall
 * back to reading corosync. Rejects with a ControlSocketError for everything else: timeout,
 * permission denied, a malformed or error response.
 */
export function queryDaemon(socketPath: string, cmd: ControlCommand, timeoutMs: number, fields: Record<string, unknown> = {}): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection({ path: socketPath });
    let received = '';
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      outcome();
    };
    const fail = (code: ControlSocketError['code'], message: string) => finish(() => reject(new ControlSocketError(code, message)));
    const timer = setTimeout(() => fail('timeout', `corolistener daemon on ${socketPath} did not answer within ${timeoutMs} ms`), timeoutMs);

    socket.setEncoding('utf8');
    socket.once('connect', () => socket.write(`${JSON.stringify({ ...fields, cmd })}\n`));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') finish(() => resolve(undefined));
      else if (err.code === 'EACCES' || err.code === 'EPERM') {
        fail('access', `permission denied on ${socketPath} (the control socket is root-only)`);
      } else fail('io', `cannot talk to the daemon on ${socketPath}: ${err.message}`);
    });
    socket.on('data', (chunk: string) => {
      received += chunk;
      const nl = received.indexOf('\n');
      if (nl === -1) {
        if (received.length > MAX_RESPONSE_BYTES) {
          fail('protocol', `response from ${socketPath} exceeds ${MAX_RESPONSE_BYTES} bytes`);
        }
        return;
      }
      let response: unknown;
      try {
        response = JSON.parse(received.slice(0, nl));
      } catch {
        fail('protocol', `response from ${socketPath} is not valid JSON`);
        return;
      }
      const r = response as Partial<{ ok: unknown; result: unknown; error: unknown }> | null;
      if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') {
        fail('protocol', `response from ${socketPath} is not a control socket response`);
      } else if (r.ok) {
        finish(() => resolve(r.result));
      } else {
        fail('daemon-error', `daemon: ${typeof r.error === 'string' ? r.error : 'unspecified error'}`);
      }
    });
    socket.on('end', () => fail('protocol', `corolistener daemon on ${socketPath} closed the connection without answering`));
  });
}
