// Fuzzed CPG messages: random bytes, random JSON, oversized, wrong protocol version, wrong
// schema, forged or replayed signatures, old config versions. The codec (every registered
// type: the daemon's failure records and the configuration messages' schema) rejects each
// malformed one with a MessageError and never anything else; a well-formed configuration
// message with a forged MAC fails verifyConfigMessage. The configuration channel and a running
// Corolistener (fake corosync, the real cluster config publisher) log every rejection and
// change nothing: no role change, no action, no file written, no reply sent, no reload.
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigChannel } from '../../../src/cluster/config-channel';
import { ClusterConfigPublisher } from '../../../src/cluster/config-publisher';
import { CONFIG_ACK, CONFIG_HELLO, CONFIG_OFFER, type ConfigMessage, encodeConfigMessage, isConfigMessageType, sha256Hex, signedBody, verifyConfigMessage } from '../../../src/cluster/config-messages';
import { MAX_MESSAGE_BYTES, MessageCodec, MessageError, PROTOCOL, PROTOCOL_VERSION, encodeMessage } from '../../../src/cluster/envelope';
import { FAILURE_RECORDS, createMessageCodec } from '../../../src/cluster/messages';
import { Corolistener } from '../../../src/daemon/corolistener';
import { KEY, OTHER_KEY, confText, recordingLog } from '../cluster/support';
import { FakeCorosync, ManualClock, RecordingActions, captureLogger, testDirs, type TestDirs } from '../daemon/fakes';

const RUNS = 300;
const codec = createMessageCodec();
const TYPES = [FAILURE_RECORDS, CONFIG_OFFER, CONFIG_ACK, CONFIG_HELLO];

/** decode must throw a MessageError (of one of the given codes), nothing else, and never return. */
function expectRejected(c: MessageCodec, data: Buffer, codes?: readonly string[]): MessageError {
  let outcome: unknown;
  try {
    outcome = { returned: c.decode(data) };
  } catch (err) {
    outcome = err;
  }
  expect(outcome, `accepted: ${data.subarray(0, 200).toString()}`).toBeInstanceOf(MessageError);
  const error = outcome as MessageError;
  if (codes) expect(codes).toContain(error.code);
  return error;
}

/**
 * How the receiving side refuses `data`: the codec's MessageError code, 'bad-mac' for a
 * well-formed configuration message whose MAC does not verify, or 'accepted'.
 */
function refusal(data: Buffer): string {
  let decoded;
  try {
    decoded = codec.decode(data);
  } catch (err) {
    expect(err).toBeInstanceOf(MessageError);
    return (err as MessageError).code;
  }
  if (isConfigMessageType(decoded.type) && verifyConfigMessage({ type: decoded.type, body: decoded.body }, KEY) === undefined) return 'bad-mac';
  return 'accepted';
}

const envelope = (fields: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify(fields));
const newer = confText(99, [1, 2, 3]);
const offer = (content = newer, version = 99n, from = 1): ConfigMessage => ({
  type: CONFIG_OFFER,
  body: { version, sha256: sha256Hex(content), content, from, role: 'master', master: from, since: null },
});

/**
 * Bodies that look right but are forged, replayed, tampered with or of the wrong shape, with
 * how they are refused: a MessageError code from the codec, or 'bad-mac' (well-formed, but
 * the MAC is not this cluster key's over these fields).
 */
function forgedMessages(): Array<[string, Buffer, string]> {
  const good = signedBody(offer(), KEY);
  const hello = signedBody({ type: CONFIG_HELLO, body: { version: 99n, sha256: sha256Hex(newer), from: 1, role: 'master', master: 1, since: null } }, KEY);
  const tampered = newer.replace('prio: 3', 'prio: 1000');
  const flip = (mac: string): string => (mac[0] === '0' ? '1' : '0') + mac.slice(1);
  return [
    ['signed with another cluster key', encodeConfigMessage(offer(), OTHER_KEY), 'bad-mac'],
    ['one MAC digit flipped', encodeMessage(CONFIG_OFFER, { ...good, mac: flip(good.mac as string) }), 'bad-mac'],
    ['MAC of a hello reused on an offer', encodeMessage(CONFIG_OFFER, { ...good, mac: hello.mac }), 'bad-mac'],
    ['content changed after signing (digest recomputed)', encodeMessage(CONFIG_OFFER, { ...good, content: tampered, sha256: sha256Hex(tampered) }), 'bad-mac'],
    ['version raised after signing', encodeMessage(CONFIG_OFFER, { ...good, version: '100' }), 'bad-mac'],
    ['sender changed after signing', encodeMessage(CONFIG_OFFER, { ...good, from: 2 }), 'bad-mac'],
    ['digest not matching the content', encodeMessage(CONFIG_OFFER, { ...good, sha256: '0'.repeat(64) }), 'bad-body'],
    ['MAC in upper case', encodeMessage(CONFIG_OFFER, { ...good, mac: (good.mac as string).toUpperCase() }), 'bad-body'],
    ['no MAC', encodeMessage(CONFIG_OFFER, { ...good, mac: undefined }), 'bad-body'],
    ['signed body under an old protocol version', envelope({ proto: PROTOCOL, v: 0, type: CONFIG_OFFER, body: good }), 'unknown-version'],
    ['signed body under the previous protocol version (no role)', envelope({ proto: PROTOCOL, v: PROTOCOL_VERSION - 1, type: CONFIG_OFFER, body: good }), 'unknown-version'],
    ['signed body under a future protocol version', envelope({ proto: PROTOCOL, v: PROTOCOL_VERSION + 1, type: CONFIG_OFFER, body: good }), 'unknown-version'],
    ['protocol version as a string', envelope({ proto: PROTOCOL, v: String(PROTOCOL_VERSION), type: CONFIG_OFFER, body: good }), 'unknown-version'],
    ['role changed after signing', encodeMessage(CONFIG_OFFER, { ...good, role: 'slave' }), 'bad-mac'],
    ['master changed after signing', encodeMessage(CONFIG_OFFER, { ...good, master: 2 }), 'bad-mac'],
    ['since changed after signing', encodeMessage(CONFIG_OFFER, { ...good, since: 4 }), 'bad-mac'],
    ['since not a ring seq', encodeMessage(CONFIG_OFFER, { ...good, since: -1 }), 'bad-body'],
    ['unknown role', encodeMessage(CONFIG_OFFER, { ...good, role: 'boss' }), 'bad-body'],
    ['master not a nodeid', encodeMessage(CONFIG_OFFER, { ...good, master: 0 }), 'bad-body'],
    ['no role', encodeMessage(CONFIG_OFFER, { ...good, role: undefined }), 'bad-body'],
    ['another protocol', envelope({ proto: 'corosync', v: 1, type: CONFIG_OFFER, body: good }), 'bad-envelope'],
    ['failure records from a negative node', encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 1, seq: 4 }, records: { '-1': 3 } }), 'bad-body'],
    [
      'failure records with __proto__',
      Buffer.from(`{"proto":"${PROTOCOL}","v":${PROTOCOL_VERSION},"type":"${FAILURE_RECORDS}","body":{"ringId":{"nodeId":1,"seq":4},"records":{"__proto__":{"polluted":1}}}}`),
      'bad-body',
    ],
    [
      'failure records, 2000 entries',
      encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 1, seq: 4 }, records: Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [String(i + 1), 1])) }),
      'bad-body',
    ],
    ['failure records with a claim that is not an object', encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 1, seq: 4 }, records: {}, claim: 3 }), 'bad-body'],
    ['failure records with a negative claimed version', encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 1, seq: 4 }, records: {}, claim: { by: 2, version: -1 } }), 'bad-body'],
    ['failure records with a claim of no node', encodeMessage(FAILURE_RECORDS, { ringId: { nodeId: 1, seq: 4 }, records: {}, claim: { version: 3 } }), 'bad-body'],
    ['deeply nested JSON', Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`), 'bad-envelope'],
    ['oversized by one byte', Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20), 'too-large'],
    ['oversized: 64 MiB', Buffer.alloc(64 * 1024 * 1024, 0x7b), 'too-large'],
    ['empty', Buffer.alloc(0), 'not-json'],
    ['UTF-16 JSON', Buffer.from(JSON.stringify({ proto: PROTOCOL, v: PROTOCOL_VERSION, type: CONFIG_HELLO, body: hello }), 'utf16le'), 'not-json'],
  ];
}

describe('the message codec under fuzzing', () => {
  it('random bytes are rejected with a MessageError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4096 }), (bytes) => {
        expectRejected(codec, Buffer.from(bytes));
      }),
      { numRuns: RUNS },
    );
  });

  it('random JSON values are rejected with a MessageError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expectRejected(codec, Buffer.from(JSON.stringify(value) ?? 'null'));
      }),
      { numRuns: RUNS },
    );
  });

  it('random envelopes: bad version, unknown type or bad body, each with its code', () => {
    const version = fc.oneof(
      fc.constant(PROTOCOL_VERSION),
      fc.jsonValue().filter((v) => v !== PROTOCOL_VERSION),
    );
    const type = fc.oneof(fc.constantFrom(...TYPES), fc.string());
    fc.assert(
      fc.property(version, type, fc.jsonValue(), (v, t, body) => {
        const error = expectRejected(codec, envelope({ proto: PROTOCOL, v, type: t, body }));
        const expected = v !== PROTOCOL_VERSION ? 'unknown-version' : TYPES.includes(t) ? 'bad-body' : 'unknown-type';
        expect(error.code).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it('valid messages with one field replaced by a random value are rejected (or still valid and re-encodable)', () => {
    const good = signedBody(offer(), KEY);
    const fields = Object.keys(good);
    fc.assert(
      fc.property(fc.constantFrom(...fields), fc.jsonValue(), (field, value) => {
        fc.pre(JSON.stringify(value) !== JSON.stringify(good[field]));
        expect(['bad-body', 'bad-mac']).toContain(refusal(encodeMessage(CONFIG_OFFER, { ...good, [field]: value })));
      }),
      { numRuns: RUNS },
    );
  });

  it('random byte mutations of a signed message: refused, unless the meaning is unchanged', () => {
    const data = encodeConfigMessage(offer(), KEY);
    const original = verifyConfigMessage(codec.decode(data) as { type: typeof CONFIG_OFFER; body: unknown }, KEY);
    expect(original).toBeDefined();
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(data.length - 1), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }), (edits) => {
        const mutated = Buffer.from(data);
        for (const [at, byte] of edits) mutated[at] = byte;
        if (refusal(mutated) !== 'accepted') return;
        // Only changes JSON ignores (blanks...) may pass: the MAC covers the meaning.
        const decoded = codec.decode(mutated) as { type: typeof CONFIG_OFFER; body: unknown };
        expect(verifyConfigMessage(decoded, KEY)).toEqual(original);
      }),
      { numRuns: RUNS },
    );
  });

  for (const [name, data, code] of forgedMessages()) {
    it(`forged or malformed: ${name} -> ${code}`, () => {
      expect(refusal(data)).toBe(code);
    });
  }
});

describe('the configuration channel given fuzzed messages', () => {
  let dirs: TestDirs | undefined;
  afterEach(() => dirs?.cleanup());

  it('logs each rejection and changes nothing: no file written, no reply, no reload', async () => {
    dirs = testDirs([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const confPath = dirs.corosyncConf;
    writeFileSync(confPath, confText(5));
    const before = { bytes: readFileSync(confPath), ino: statSync(confPath).ino };
    const log = recordingLog();
    const sent: Buffer[] = [];
    let reloads = 0;
    const channel = new ConfigChannel({
      localNodeId: 2,
      key: KEY,
      confPath,
      log,
      send: async (d) => void sent.push(d),
      reload: () => void reloads++,
      write: { corosyncCheck: 'off' },
      setTimer: () => () => undefined,
    });
    const junk = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
        fc.tuple(fc.constantFrom(CONFIG_OFFER, CONFIG_ACK, CONFIG_HELLO), fc.jsonValue()).map(([t, b]) => encodeMessage(t, b)),
      ),
      { numRuns: 200, seed: 8 },
    );
    const messages = [...junk, ...forgedMessages().map(([, data]) => data)];
    for (const data of messages) expect(channel.onCpgMessage({ nodeId: 1, data })).toBeUndefined();
    await channel.distributor.idle();
    const rejected = log.lines.filter((l) => l.msg === 'cluster message rejected');
    expect(rejected).toHaveLength(messages.length);
    expect(log.lines.filter((l) => l.msg !== 'cluster message rejected')).toEqual([]);
    expect(sent).toEqual([]);
    expect(reloads).toBe(0);
    expect(readFileSync(confPath)).toEqual(before.bytes);
    expect(statSync(confPath).ino).toBe(before.ino);
  });

  it('a correctly signed offer of an older version is ignored: file untouched, no reload', async () => {
    dirs = testDirs([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const confPath = dirs.corosyncConf;
    writeFileSync(confPath, confText(5));
    const before = readFileSync(confPath);
    const log = recordingLog();
    let reloads = 0;
    const channel = new ConfigChannel({
      localNodeId: 2,
      key: KEY,
      confPath,
      log,
      send: async () => undefined,
      reload: () => void reloads++,
      write: { corosyncCheck: 'off' },
      setTimer: () => () => undefined,
    });
    const old = confText(4, [1, 2, 300]);
    channel.onCpgMessage({ nodeId: 1, data: encodeConfigMessage(offer(old, 4n), KEY) });
    await channel.distributor.idle();
    expect(readFileSync(confPath)).toEqual(before);
    expect(reloads).toBe(0);
    expect(log.lines.map((l) => l.msg)).toContain('config offer ignored: older than the installed file');
  });
});

describe('a running Corolistener given fuzzed CPG messages', () => {
  let dirs: TestDirs | undefined;
  let daemon: Corolistener | undefined;
  afterEach(async () => {
    await daemon?.stop();
    dirs?.cleanup();
  });

  it('rejects and logs every one; role, decisions, actions and files stay as they were', async () => {
    const nodes = [
      { id: 2, prio: 99 },
      { id: 4, prio: 100 },
      { id: 8, prio: 98 },
    ];
    dirs = testDirs(nodes);
    const corosync = new FakeCorosync(2);
    for (const n of nodes) corosync.versions[n.id] = 1;
    const actions = new RecordingActions();
    const { logger, lines } = captureLogger();
    daemon = new Corolistener({
      corosyncConf: dirs.corosyncConf,
      vmmgrConf: dirs.vmmgrConf,
      stateDir: dirs.stateDir,
      logger,
      corosync,
      actions,
      clock: new ManualClock(),
      corosyncCheck: 'off',
      // The real distribution (MAC check with the cluster key, the distributor) behind the daemon's dispatch.
      configPublisher: new ClusterConfigPublisher({ key: KEY, confPath: dirs.corosyncConf, log: logger, write: { corosyncCheck: 'off' }, syncPort: null }),
      retry: { attempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
    });
    const decisions: unknown[] = [];
    daemon.on('decision', (d) => decisions.push(d));
    await daemon.start();
    corosync.session.quorum(true, [2, 4, 8], 10);
    await daemon.settled();
    expect(daemon.role).toBe('slave');

    const files = (): Record<string, Buffer> => ({
      conf: readFileSync(dirs!.corosyncConf),
      state: readFileSync(join(dirs!.stateDir, 'state.json')),
    });
    const before = { role: daemon.role, decisions: decisions.length, actions: actions.calls.length, files: files(), status: daemon.nodeListReport() };
    const isRejection = (l: Record<string, unknown>) => l['event'] === 'message-rejected' || l['msg'] === 'cluster message rejected';
    const rejectedBefore = lines.filter(isRejection).length;

    const junk = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)),
        fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
        fc.tuple(fc.constantFrom(...TYPES), fc.jsonValue()).map(([t, b]) => encodeMessage(t, b)),
      ),
      { numRuns: 300, seed: 42 },
    );
    const messages = [...junk, ...forgedMessages().map(([, data]) => data)];
    for (const [i, data] of messages.entries()) corosync.session.message(i % 2 === 0 ? 4 : 8, data);
    await daemon.settled();

    const rejected = lines.filter(isRejection).slice(rejectedBefore);
    expect(rejected).toHaveLength(messages.length);
    expect(rejected.every((l) => l['level'] === 40 && (l['from'] === 4 || l['from'] === 8) && typeof l['error'] === 'string')).toBe(true);
    expect(lines.filter((l) => l['event'] === 'message-unhandled')).toEqual([]);
    expect(daemon.role).toBe(before.role);
    expect(decisions).toHaveLength(before.decisions);
    expect(actions.calls).toHaveLength(before.actions);
    expect(files()).toEqual(before.files);
    expect(daemon.nodeListReport()).toEqual(before.status);
  });
});
