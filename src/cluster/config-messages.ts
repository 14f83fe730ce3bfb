// The configuration-distribution messages exchanged over the CPG group (see
// docs/config-update.md):
//
//   config.offer  {version, sha256, content, from, role, master, since, mac}  the full file
//   config.ack    {version, sha256, from, ok, error?, mac}                     installed or not
//   config.hello  {version, sha256, from, role, master, since, mac}           this node's file
//
// `role` and `master` are the sender's engine role and the master it names (null: none) when it
// sent the message, `since` (a master's) the ring seq since which it is master: a same-version
// conflict is settled by the master, and of two masters by the one master longest
// (docs/config-update.md), so every node must know which side the sender is on.
// They were added in protocol version 2 of the envelope (envelope.ts): a version-1 daemon
// rejects these messages as `unknown-version` instead of misreading them.
//
// Why the full file in the offer rather than an announcement that members then request: CPG
// delivers one multicast to every member in the same agreed order, so all members see the
// same bytes at the same point of the message stream; an announce/request/response exchange
// would take three rounds and open windows in which a second change races the first. The
// file is a few KiB, far below the envelope's 256 KiB limit.
//
// Versions travel as decimal strings: config_version is a uint64, beyond JSON's safe integers.
// Every body carries an HMAC-SHA256 (cluster key, cluster-key.ts) over all its other fields, so
// a process that can reach the local corosync IPC but does not hold the key cannot forge one.
import { createHash } from 'node:crypto';
import type { ClusterKey } from './cluster-key';
import { type MessageCodec, encodeMessage } from './envelope';

export const CONFIG_OFFER = 'config.offer';
export const CONFIG_ACK = 'config.ack';
export const CONFIG_HELLO = 'config.hello';

/** Larger than any corosync.conf corolistener has reason to distribute; leaves envelope room. */
export const MAX_CONFIG_BYTES = 128 * 1024;
const MAX_ERROR_CHARS = 2000;
const UINT64_MAX = (1n << 64n) - 1n;

/** The sender's engine role (same values as the engine's Role). */
export type SenderRole = 'master' | 'slave' | 'suspended' | 'unknown';
const ROLES: readonly SenderRole[] = ['master', 'slave', 'suspended', 'unknown'];

/** Which side of a same-version conflict the sender is on. */
export interface SenderSide {
  role: SenderRole;
  master: number | null;
  /** A master's ring seq since which it is master; null otherwise. */
  since: number | null;
}

export interface ConfigOffer extends SenderSide {
  version: bigint;
  sha256: string;
  content: string;
  from: number;
}

export interface ConfigAck {
  version: bigint;
  sha256: string;
  from: number;
  ok: boolean;
  error?: string;
}

export interface ConfigHello extends SenderSide {
  version: bigint;
  sha256: string;
  from: number;
}

export type ConfigMessage = { type: typeof CONFIG_OFFER; body: ConfigOffer } | { type: typeof CONFIG_ACK; body: ConfigAck } | { type: typeof CONFIG_HELLO; body: ConfigHello };

export function sha256Hex(content: string): string {
  return createHash('sha256').update(content, 'utf8').digest('hex');
}

// The MAC input: the message type and every field in a fixed order (length-prefixed by
// ClusterKey.mac), so a MAC of one message type never validates another.
function macParts(msg: ConfigMessage): string[] {
  const { type, body } = msg;
  const common = [type, body.version.toString(), body.sha256, String(body.from)];
  const side = (b: SenderSide): string[] => [b.role, b.master === null ? '' : String(b.master), b.since === null ? '' : String(b.since)];
  switch (msg.type) {
    case CONFIG_OFFER:
      return [...common, msg.body.content, ...side(msg.body)];
    case CONFIG_ACK:
      return [...common, msg.body.ok ? 'ok' : 'refused', msg.body.error ?? ''];
    case CONFIG_HELLO:
      return [...common, ...side(msg.body)];
  }
}

/** The wire body of a message: versions as strings, plus the MAC. */
export function signedBody(msg: ConfigMessage, key: ClusterKey): Record<string, unknown> {
  return { ...msg.body, version: msg.body.version.toString(), mac: key.mac(macParts(msg)) };
}

/** Encodes a configuration message in the cluster envelope, signed with the cluster key. */
export function encodeConfigMessage(msg: ConfigMessage, key: ClusterKey): Buffer {
  return encodeMessage(msg.type, signedBody(msg, key));
}

// --- validation of bodies from the network -------------------------------------------------

type Fields = Record<string, unknown>;

function asObject(body: unknown): Fields {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('body must be an object');
  return body as Fields;
}

function onlyKeys(b: Fields, allowed: readonly string[]): void {
  const extra = Object.keys(b).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw new Error(`unexpected field ${JSON.stringify(extra[0])}`);
}

function version(b: Fields): bigint {
  const v = b.version;
  if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(v) || BigInt(v) > UINT64_MAX) {
    throw new Error(`version must be a uint64 as a decimal string, got ${JSON.stringify(v)}`);
  }
  return BigInt(v);
}

function sha(b: Fields): string {
  if (typeof b.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(b.sha256)) throw new Error('sha256 must be 64 lowercase hex digits');
  return b.sha256;
}

function isNodeId(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 0xffffffff;
}

function nodeId(b: Fields): number {
  const v = b.from;
  if (!isNodeId(v)) throw new Error(`from must be a nodeid, got ${JSON.stringify(v)}`);
  return v;
}

function senderSide(b: Fields): SenderSide {
  if (typeof b.role !== 'string' || !(ROLES as readonly string[]).includes(b.role)) throw new Error(`role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(b.role)}`);
  if (b.master !== null && !isNodeId(b.master)) throw new Error(`master must be a nodeid or null, got ${JSON.stringify(b.master)}`);
  if (b.since !== null && (typeof b.since !== 'number' || !Number.isSafeInteger(b.since) || b.since < 0)) throw new Error(`since must be a ring seq or null, got ${JSON.stringify(b.since)}`);
  return { role: b.role as SenderRole, master: b.master as number | null, since: b.since as number | null };
}

function mac(b: Fields): string {
  if (typeof b.mac !== 'string' || !/^[0-9a-f]{64}$/.test(b.mac)) throw new Error('mac must be 64 lowercase hex digits');
  return b.mac;
}

export function validateOffer(body: unknown): ConfigOffer & { mac: string } {
  const b = asObject(body);
  onlyKeys(b, ['version', 'sha256', 'content', 'from', 'role', 'master', 'since', 'mac']);
  if (typeof b.content !== 'string') throw new Error('content must be a string');
  const bytes = Buffer.byteLength(b.content, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) throw new Error(`content is ${bytes} bytes, over the ${MAX_CONFIG_BYTES}-byte limit`);
  const offer = { version: version(b), sha256: sha(b), content: b.content, from: nodeId(b), ...senderSide(b), mac: mac(b) };
  if (sha256Hex(offer.content) !== offer.sha256) throw new Error('sha256 does not match the content');
  return offer;
}

export function validateAck(body: unknown): ConfigAck & { mac: string } {
  const b = asObject(body);
  onlyKeys(b, ['version', 'sha256', 'from', 'ok', 'error', 'mac']);
  if (typeof b.ok !== 'boolean') throw new Error('ok must be a boolean');
  if (b.error !== undefined && (typeof b.error !== 'string' || b.error.length > MAX_ERROR_CHARS)) {
    throw new Error(`error must be a string of at most ${MAX_ERROR_CHARS} characters`);
  }
  const ack: ConfigAck & { mac: string } = { version: version(b), sha256: sha(b), from: nodeId(b), ok: b.ok, mac: mac(b) };
  if (b.error !== undefined) ack.error = b.error as string;
  return ack;
}

export function validateHello(body: unknown): ConfigHello & { mac: string } {
  const b = asObject(body);
  onlyKeys(b, ['version', 'sha256', 'from', 'role', 'master', 'since', 'mac']);
  return { version: version(b), sha256: sha(b), from: nodeId(b), ...senderSide(b), mac: mac(b) };
}

/**
 * Registers the three configuration message types (schema, limits, digest) on a codec. The MAC
 * needs the cluster key, which the codec registry does not have: `verifyConfigMessage` checks it
 * before the distributor sees the message (ConfigChannel).
 */
export function registerConfigMessages(codec: MessageCodec): MessageCodec {
  return codec.register(CONFIG_OFFER, validateOffer).register(CONFIG_ACK, validateAck).register(CONFIG_HELLO, validateHello);
}

export function isConfigMessageType(type: string): type is ConfigMessage['type'] {
  return type === CONFIG_OFFER || type === CONFIG_ACK || type === CONFIG_HELLO;
}

/**
 * The message without its MAC if the MAC is the cluster key's over every other field;
 * undefined for a forgery. `decoded` must come from a codec with registerConfigMessages.
 */
export function verifyConfigMessage(decoded: { type: ConfigMessage['type']; body: unknown }, key: ClusterKey): ConfigMessage | undefined {
  const { mac: received, ...body } = decoded.body as ConfigMessage['body'] & { mac: string };
  const msg = { type: decoded.type, body } as ConfigMessage;
  return key.verify(macParts(msg), received) ? msg : undefined;
}
