import { describe, expect, it } from 'vitest';
import { encodeMessage, MAX_MESSAGE_BYTES, MessageCodec, MessageError, PROTOCOL_VERSION } from '../../../src/cluster/envelope';

function pingCodec(): MessageCodec {
  return new MessageCodec().register('ping', (body) => {
    const b = body as { n?: unknown };
    if (typeof b !== 'object' || b === null || typeof b.n !== 'number') throw new Error('body.n must be a number');
    return { n: b.n };
  });
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MessageError);
    return (err as MessageError).code;
  }
  throw new Error('expected a MessageError');
}

describe('cluster message envelope', () => {
  it('round-trips a registered message', () => {
    expect(pingCodec().decode(encodeMessage('ping', { n: 7 }))).toEqual({ type: 'ping', body: { n: 7 } });
  });

  it('rejects what is not a valid message of a known type and version', () => {
    const codec = pingCodec();
    const raw = (o: unknown) => Buffer.from(JSON.stringify(o));
    expect(codeOf(() => codec.decode(Buffer.from([0xff, 0x00, 0x13])))).toBe('not-json');
    expect(codeOf(() => codec.decode(raw([1, 2])))).toBe('bad-envelope');
    expect(codeOf(() => codec.decode(raw({ proto: 'other', v: 1, type: 'ping', body: { n: 1 } })))).toBe('bad-envelope');
    expect(codeOf(() => codec.decode(raw({ proto: 'corolistener', v: 9, type: 'ping', body: { n: 1 } })))).toBe('unknown-version');
    expect(codeOf(() => codec.decode(raw({ proto: 'corolistener', v: PROTOCOL_VERSION, type: 'pong', body: {} })))).toBe('unknown-type');
    expect(codeOf(() => codec.decode(raw({ proto: 'corolistener', v: PROTOCOL_VERSION, type: 'ping', body: { n: 'x' } })))).toBe('bad-body');
    expect(codeOf(() => codec.decode(Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)))).toBe('too-large');
  });

  it('refuses to encode an oversized message', () => {
    expect(codeOf(() => encodeMessage('ping', { pad: 'x'.repeat(MAX_MESSAGE_BYTES) }))).toBe('too-large');
  });
});
