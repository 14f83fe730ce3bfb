// `corolistener config sync`: before corosync starts, a node fetches the newest corosync.conf
// from a live peer (corosync would terminate it at its first join if its config_version were
// older). Every running daemon serves its file on a small TCP service (ConfigSyncServer, port
// 5407 on its ring0 address); protocol in docs/config-update.md.
//
// One request line, one response line, JSON, then the connection closes:
//   -> {"proto":"corolistener-sync","v":1,"type":"request","nonce":N,"ts":MS,"have":"V","mac":M}
//   <- {"proto":"corolistener-sync","v":1,"type":"response","nonce":N,"version":"V","sha256":S,"content":C,"mac":M}
//   <- {"proto":"corolistener-sync","v":1,"type":"error","error":"..."}   (unsigned; a failure)
//
// Both MACs are HMAC-SHA256 with the cluster key (cluster-key.ts). The server answers only a
// request signed with the key, whose timestamp is within REQUEST_WINDOW_MS of its clock, and
// whose nonce it has not seen in that window (replay). The response is bound to the client's
// fresh nonce, so a recorded response cannot be replayed to a later client.
import { randomBytes } from 'node:crypto';
import * as net from 'node:net';
import type { ClusterKey } from './cluster-key';
import type { LocalConfig } from './config-distributor';
import { MAX_CONFIG_BYTES, sha256Hex } from './config-messages';

export const SYNC_PROTO = 'corolistener-sync';
export const SYNC_VERSION = 1;
export const DEFAULT_SYNC_PORT = 5407;
export const MAX_REQUEST_BYTES = 4096;
/** The content plus JSON escaping (at most 6 bytes per byte, \u00XX) and the other fields. */
export const MAX_RESPONSE_BYTES = MAX_CONFIG_BYTES * 6 + 4096;
export const REQUEST_WINDOW_MS = 120_000;
const UINT64_MAX = (1n << 64n) - 1n;

export class SyncProtocolError extends Error {
  override name = 'SyncProtocolError';
}

export interface SyncRequest {
  nonce: string;
  ts: number;
  have: bigint;
}

export interface SyncResponse {
  nonce: string;
  version: bigint;
  sha256: string;
  content: string;
}

const requestParts = (r: SyncRequest) => ['sync.request', r.nonce, String(r.ts), r.have.toString()];
const responseParts = (r: SyncResponse) => ['sync.response', r.nonce, r.version.toString(), r.sha256, r.content];

export function newNonce(): string {
  return randomBytes(16).toString('hex');
}

export function encodeRequest(req: SyncRequest, key: ClusterKey): Buffer {
  const line = { proto: SYNC_PROTO, v: SYNC_VERSION, type: 'request', nonce: req.nonce, ts: req.ts, have: req.have.toString(), mac: key.mac(requestParts(req)) };
  return Buffer.from(JSON.stringify(line) + '\n', 'utf8');
}

export function encodeResponse(res: SyncResponse, key: ClusterKey): Buffer {
  const line = {
    proto: SYNC_PROTO,
    v: SYNC_VERSION,
    type: 'response',
    nonce: res.nonce,
    version: res.version.toString(),
    sha256: res.sha256,
    content: res.content,
    mac: key.mac(responseParts(res)),
  };
  return Buffer.from(JSON.stringify(line) + '\n', 'utf8');
}

export function encodeError(message: string): Buffer {
  return Buffer.from(JSON.stringify({ proto: SYNC_PROTO, v: SYNC_VERSION, type: 'error', error: message }) + '\n', 'utf8');
}

function parseLine(line: Buffer, limit: number, what: string): Record<string, unknown> {
  if (line.length > limit) throw new SyncProtocolError(`${what} of ${line.length} bytes, over the ${limit}-byte limit`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(line.toString('utf8'));
  } catch {
    throw new SyncProtocolError(`${what} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyncProtocolError(`${what} is not a JSON object`);
  const o = parsed as Record<string, unknown>;
  if (o.proto !== SYNC_PROTO) throw new SyncProtocolError(`${what}: proto is not "${SYNC_PROTO}"`);
  if (o.v !== SYNC_VERSION) throw new SyncProtocolError(`${what}: protocol version ${JSON.stringify(o.v)} is not ${SYNC_VERSION}`);
  return o;
}

function uint64(value: unknown, field: string): bigint {
  if (typeof value !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(value) || BigInt(value) > UINT64_MAX) {
    throw new SyncProtocolError(`${field} must be a uint64 as a decimal string`);
  }
  return BigInt(value);
}

function hex(value: unknown, field: string, digits: number): string {
  if (typeof value !== 'string' || !new RegExp(`^[0-9a-f]{${digits}}$`).test(value)) throw new SyncProtocolError(`${field} must be ${digits} lowercase hex digits`);
  return value;
}

/**
 * Server side: a verified request, or a SyncProtocolError. `seen` holds recent nonces with the
 * time they were accepted (the caller keeps it across requests; expired ones are dropped here).
 */
export function decodeRequest(line: Buffer, key: ClusterKey, now: number, seen: Map<string, number>): SyncRequest {
  const o = parseLine(line, MAX_REQUEST_BYTES, 'request');
  if (o.type !== 'request') throw new SyncProtocolError('request: type is not "request"');
  if (typeof o.ts !== 'number' || !Number.isSafeInteger(o.ts)) throw new SyncProtocolError('request: ts must be an integer (ms since the epoch)');
  const req: SyncRequest = { nonce: hex(o.nonce, 'request: nonce', 32), ts: o.ts, have: uint64(o.have, 'request: have') };
  if (typeof o.mac !== 'string' || !key.verify(requestParts(req), o.mac)) throw new SyncProtocolError("request: bad MAC (not signed with this cluster's key)");
  if (Math.abs(now - req.ts) > REQUEST_WINDOW_MS) throw new SyncProtocolError(`request: timestamp ${req.ts} is more than ${REQUEST_WINDOW_MS} ms from this node's clock`);
  for (const [nonce, at] of seen) if (now - at > 2 * REQUEST_WINDOW_MS) seen.delete(nonce);
  if (seen.has(req.nonce)) throw new SyncProtocolError('request: replayed nonce');
  seen.set(req.nonce, now);
  return req;
}

/** Client side: the verified response to the request with `nonce`, or a SyncProtocolError. */
export function decodeResponse(line: Buffer, key: ClusterKey, nonce: string): SyncResponse {
  const o = parseLine(line, MAX_RESPONSE_BYTES, 'response');
  if (o.type === 'error') throw new SyncProtocolError(`peer refused: ${String(o.error).slice(0, 500)}`);
  if (o.type !== 'response') throw new SyncProtocolError('response: type is not "response"');
  if (typeof o.content !== 'string') throw new SyncProtocolError('response: content must be a string');
  const bytes = Buffer.byteLength(o.content, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw new SyncProtocolError(`response: content of ${bytes} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`);
  const res: SyncResponse = {
    nonce: hex(o.nonce, 'response: nonce', 32),
    version: uint64(o.version, 'response: version'),
    sha256: hex(o.sha256, 'response: sha256', 64),
    content: o.content,
  };
  if (typeof o.mac !== 'string' || !key.verify(responseParts(res), o.mac)) throw new SyncProtocolError("response: bad MAC (not signed with this cluster's key)");
  if (res.nonce !== nonce) throw new SyncProtocolError('response: answers another request (nonce mismatch: replayed?)');
  if (sha256Hex(res.content) !== res.sha256) throw new SyncProtocolError('response: sha256 does not match the content');
  return res;
}

/** Reads one newline-terminated line of at most `limit` bytes, within `timeoutMs`. */
function readLine(socket: net.Socket, limit: number, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | undefined, line?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) reject(err);
      else resolve(line!);
    };
    const onData = (chunk: Buffer) => {
      const nl = chunk.indexOf(0x0a);
      const part = nl < 0 ? chunk : chunk.subarray(0, nl);
      chunks.push(part);
      size += part.length;
      if (size > limit) return done(new SyncProtocolError(`line over the ${limit}-byte limit`));
      if (nl >= 0) done(undefined, Buffer.concat(chunks));
    };
    const onEnd = () => done(new SyncProtocolError('connection closed before a complete line'));
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new SyncProtocolError(`no complete line within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

export interface ConfigSyncServerOptions {
  key: ClusterKey;
  /** The file to serve, read on every request. */
  readLocal(): Promise<LocalConfig>;
  host: string;
  port?: number;
  log: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  clock?: () => number;
  /** Per-connection limit to send a request line (default 2 s): an idle connection is dropped then. */
  requestTimeoutMs?: number;
  /**
   * Whether a peer address may ask (default: any). The daemon allows the nodelist's addresses
   * only: anyone else is disconnected at once, before reading a byte.
   */
  allowPeer?: (address: string) => boolean | Promise<boolean>;
  /** Connections served at once (default 16); more are closed by the kernel side at once. */
  maxConnections?: number;
}

/** A request is one short line: a peer gets this long to send it. */
export const SYNC_REQUEST_TIMEOUT_MS = 2_000;
export const SYNC_MAX_CONNECTIONS = 16;
/** After the answer (or a refusal) the peer has this long to read it before the connection is destroyed. */
const SYNC_LINGER_MS = 1_000;
/** Refused peers are logged at most once per this interval (with a count): a flood must not flood the log. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/** "::ffff:10.0.0.1" (an IPv4 peer on a dual-stack socket) as "10.0.0.1". */
export function plainAddress(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:(?=[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$)/i, '');
}

/** The TCP service every running daemon offers so that starting nodes can fetch its file. */
export class ConfigSyncServer {
  private readonly server: net.Server;
  private readonly seen = new Map<string, number>();
  private readonly sockets = new Set<net.Socket>();
  private refused = { count: 0, loggedAt: Number.NEGATIVE_INFINITY, peers: new Set<string>() };

  constructor(private readonly options: ConfigSyncServerOptions) {
    this.server = net.createServer((socket) => void this.serve(socket));
    this.server.maxConnections = options.maxConnections ?? SYNC_MAX_CONNECTIONS;
  }

  /** Listens; resolves with the bound port (useful with port 0 in tests). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? DEFAULT_SYNC_PORT, this.options.host, () => {
        this.server.off('error', reject);
        resolve((this.server.address() as net.AddressInfo).port);
      });
    });
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async serve(socket: net.Socket): Promise<void> {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {}); // a peer resetting the connection is not our failure
    const peer = `${socket.remoteAddress}:${socket.remotePort}`;
    const address = plainAddress(socket.remoteAddress);
    if (this.options.allowPeer !== undefined && !(await this.options.allowPeer(address))) {
      socket.destroy();
      this.noteRefused(address);
      return;
    }
    // Whatever happens below, the connection ends: answered, refused or idle past the deadline.
    socket.once('finish', () => setTimeout(() => socket.destroy(), SYNC_LINGER_MS).unref());
    try {
      const line = await readLine(socket, MAX_REQUEST_BYTES, this.options.requestTimeoutMs ?? SYNC_REQUEST_TIMEOUT_MS);
      const req = decodeRequest(line, this.options.key, (this.options.clock ?? Date.now)(), this.seen);
      const local = await this.options.readLocal();
      socket.end(encodeResponse({ nonce: req.nonce, version: local.version, sha256: local.sha256, content: local.content }, this.options.key));
      this.options.log.info({ peer, have: req.have.toString(), served: local.version.toString() }, 'config sync: served corosync.conf');
    } catch (err) {
      this.options.log.warn({ peer, error: (err as Error).message }, 'config sync: request rejected');
      socket.end(encodeError(err instanceof SyncProtocolError ? err.message : 'cannot serve the configuration'));
    }
  }

  private noteRefused(address: string): void {
    const r = this.refused;
    r.count += 1;
    if (r.peers.size < 16) r.peers.add(address);
    const now = Date.now();
    if (now - r.loggedAt < REFUSAL_LOG_INTERVAL_MS) return;
    this.options.log.warn({ refused: r.count, peers: [...r.peers] }, `config sync: refused ${r.count} connection(s) from addresses not in the nodelist`);
    this.refused = { count: 0, loggedAt: now, peers: new Set() };
  }
}

export interface FetchOptions {
  key: ClusterKey;
  host: string;
  port?: number;
  have: bigint;
  timeoutMs?: number;
  /** The local address to connect from (default: the kernel's choice). */
  localAddress?: string;
}

/** Asks one peer for its file; resolves with the verified response or rejects saying why. */
export function fetchConfigFromPeer(options: FetchOptions): Promise<SyncResponse> {
  const timeoutMs = options.timeoutMs ?? 3000;
  const nonce = newNonce();
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: options.host, port: options.port ?? DEFAULT_SYNC_PORT, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    const timer = setTimeout(() => socket.destroy(new SyncProtocolError(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once('connect', () => {
      socket.write(encodeRequest({ nonce, ts: Date.now(), have: options.have }, options.key));
      readLine(socket, MAX_RESPONSE_BYTES, timeoutMs)
        .then((line) => resolve(decodeResponse(line, options.key, nonce)))
        .catch(reject)
        .finally(() => {
          clearTimeout(timer);
          socket.destroy();
        });
    });
  });
}
