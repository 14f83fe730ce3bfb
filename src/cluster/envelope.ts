// The envelope of every message corolistener nodes exchange over the CPG group `corolistener`.
//
// A message from the network is untrusted input: it is size-limited before parsing, its
// envelope is checked, unknown protocol versions and unknown types are rejected, and its body
// is validated by the validator registered for its type before anything uses it. Bodies are
// JSON: messages are rare (membership changes, config updates) and readable in logs.
//
// Wire format (UTF-8 JSON): {"proto":"corolistener","v":2,"type":"<type>","body":<any>}
//
// Versions: 1 = the first release; 2 = config.offer and config.hello carry the sender's role
// and master (config-messages.ts). Every node of a cluster runs the same version: a message of
// another version is rejected (`unknown-version`), never half understood.

export const PROTOCOL = 'corolistener';
export const PROTOCOL_VERSION = 2;
/** corosync.conf files are a few KiB; nothing we send comes near this. */
export const MAX_MESSAGE_BYTES = 256 * 1024;

export type MessageErrorCode = 'too-large' | 'not-json' | 'bad-envelope' | 'unknown-version' | 'unknown-type' | 'bad-body';

export class MessageError extends Error {
  override name = 'MessageError';
  constructor(
    readonly code: MessageErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** Turns an unknown body into a typed one, or throws (any error) saying which field is wrong. */
export type BodyValidator<T> = (body: unknown) => T;

export interface DecodedMessage {
  type: string;
  body: unknown;
}

export function encodeMessage(type: string, body: unknown): Buffer {
  const data = Buffer.from(JSON.stringify({ proto: PROTOCOL, v: PROTOCOL_VERSION, type, body }), 'utf8');
  if (data.length > MAX_MESSAGE_BYTES) {
    throw new MessageError('too-large', `message ${type} is ${data.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
  }
  return data;
}

/**
 * Decodes messages of the registered types. `decode` either returns a validated body or throws
 * a MessageError; it never returns something half-checked.
 */
export class MessageCodec {
  private readonly validators = new Map<string, BodyValidator<unknown>>();

  register<T>(type: string, validate: BodyValidator<T>): this {
    if (this.validators.has(type)) throw new Error(`message type ${type} registered twice`);
    this.validators.set(type, validate);
    return this;
  }

  decode(data: Buffer): DecodedMessage {
    if (data.length > MAX_MESSAGE_BYTES) {
      throw new MessageError('too-large', `message of ${data.length} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(data.toString('utf8'));
    } catch {
      throw new MessageError('not-json', 'message is not JSON');
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MessageError('bad-envelope', 'message is not a JSON object');
    }
    const env = parsed as Record<string, unknown>;
    if (env.proto !== PROTOCOL) throw new MessageError('bad-envelope', `proto is not "${PROTOCOL}"`);
    if (env.v !== PROTOCOL_VERSION) {
      throw new MessageError('unknown-version', `protocol version ${JSON.stringify(env.v)} is not ${PROTOCOL_VERSION}`);
    }
    if (typeof env.type !== 'string') throw new MessageError('bad-envelope', 'type is not a string');
    const validate = this.validators.get(env.type);
    if (!validate) throw new MessageError('unknown-type', `unknown message type ${JSON.stringify(env.type)}`);
    try {
      return { type: env.type, body: validate(env.body) };
    } catch (err) {
      throw new MessageError('bad-body', `${env.type}: ${(err as Error).message}`);
    }
  }
}
