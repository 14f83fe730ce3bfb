import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ConfigValidationError,
  bumpConfigVersion,
  loadCorosyncConfText,
  parseCorosyncConf,
  raiseNodePrioAboveOthers,
  serializeCorosyncConf,
  setNodePrio,
  validateCorosyncConf,
  viewCorosyncConf,
} from '../../../src/config';
import { changedLines, corpus, validDocument } from './support';

describe('corosync.conf round trip', () => {
  for (const { name, text } of corpus()) {
    it(`${name}: serialising the unedited document gives back the bytes`, () => {
      const doc = parseCorosyncConf(text, name);
      expect(serializeCorosyncConf(doc)).toBe(text);
      expect(validateCorosyncConf(doc).errors.map(String)).toEqual([]);
    });
  }

  it('any text, valid or not, round-trips byte for byte', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => {
        expect(serializeCorosyncConf(parseCorosyncConf(text))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('generated valid documents round-trip, validate, and view what was generated', () => {
    fc.assert(
      fc.property(validDocument, (g) => {
        const doc = parseCorosyncConf(g.text);
        expect(serializeCorosyncConf(doc)).toBe(g.text);
        expect(validateCorosyncConf(doc).errors.map(String)).toEqual([]);
        const view = viewCorosyncConf(doc);
        expect(view.configVersion).toBe(BigInt(g.configVersion));
        expect(view.nodes.map((n) => [n.nodeid, n.ringAddrs[0], n.prio, n.replication])).toEqual(
          g.nodes.map((n) => [n.nodeid, n.addr, n.prio, n.replication === undefined ? undefined : n.replication === 'on']),
        );
        for (const [i, n] of g.nodes.entries()) {
          for (const [k] of n.extra) expect(view.nodes[i]!.keys[k]).toBe(n.extra.filter(([k2]) => k2 === k).at(-1)![1]);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('typed view', () => {
  it('reads the docs/design.md §1 cluster, unknown sections and node keys included', () => {
    const text = corpus().find((f) => f.name === 'design-sketch.conf')!.text;
    const view = viewCorosyncConf(parseCorosyncConf(text));
    expect(view.clusterName).toBe('VMmanager');
    expect(view.configVersion).toBe(4n);
    expect(view.transport).toBe('udp');
    expect(view.interfaces).toEqual([
      {
        linknumber: 0,
        keys: { ringnumber: '0', bindnetaddr: '172.31.224.0', mcastaddr: '239.255.1.1', mcastport: '5405', ttl: '1' },
      },
    ]);
    expect(view.expectedVotes).toBe(3);
    expect(view.ihttpd).toEqual({ count: 1, ports: [1500] });
    expect(view.nodes.map((n) => ({ id: n.nodeid, addr: n.ringAddrs[0], prio: n.prio, repl: n.replication }))).toEqual([
      { id: 7, addr: '172.31.224.72', prio: 99, repl: true },
      { id: 9, addr: '172.31.224.74', prio: 40, repl: true },
      { id: 13, addr: '172.31.224.80', prio: 10, repl: false },
    ]);
  });

  it('keeps every key of a node, with corosync semantics for layout quirks', () => {
    const text = corpus().find((f) => f.name === 'odd-layout.conf')!.text;
    const view = viewCorosyncConf(parseCorosyncConf(text));
    expect(view.clusterName).toBe('spaced name');
    expect(view.configVersion).toBe(18446744073709551615n);
    expect(view.ihttpd).toEqual({ count: 2, ports: [1500, 1501] });
    expect(view.nodes[0]!.keys).toEqual({
      ring0_addr: '127.0.0.1',
      name: 'n1',
      nodeid: '1',
      prio: '0',
      replication: 'off',
      rack: 'a1',
    });
  });
});

describe('minimal edits', () => {
  const design = (): string => corpus().find((f) => f.name === 'design-node-list.conf')!.text;

  it('prio + config_version on the docs/design.md §1 example changes exactly those two lines', () => {
    const before = design();
    const doc = bumpConfigVersion(setNodePrio(parseCorosyncConf(before), 9, 101));
    const after = serializeCorosyncConf(doc);
    expect(changedLines(before, after)).toEqual({
      removed: ['\tconfig_version: 12', '\t\tprio: 40'],
      added: ['\tconfig_version: 13', '\t\tprio: 101'],
    });
    expect(viewCorosyncConf(doc).nodes.find((n) => n.nodeid === 9)!.prio).toBe(101);
  });

  it('takeover helper: the node outranks all others and config_version is bumped', () => {
    const raised = raiseNodePrioAboveOthers(parseCorosyncConf(design()), 13);
    expect(raised).toMatchObject({ prio: 101, changed: true });
    const view = viewCorosyncConf(raised.doc);
    expect(view.configVersion).toBe(13n);
    expect(view.nodes.map((n) => n.prio)).toEqual([100, 40, 101]);
    expect(changedLines(design(), serializeCorosyncConf(raised.doc)).added).toEqual(['\tconfig_version: 13', '\t\tprio: 101']);
    // Already on top: nothing to do, so nothing is rewritten or distributed.
    const again = raiseNodePrioAboveOthers(raised.doc, 13);
    expect(again).toMatchObject({ prio: 101, changed: false });
    expect(serializeCorosyncConf(again.doc)).toBe(serializeCorosyncConf(raised.doc));
  });

  it('adds a missing prio as one line, indented like its neighbours, keeping CRLF', () => {
    const text = 'totem {\r\n  version: 2\r\n  config_version: 1\r\n}\r\nnodelist {\r\n  node {\r\n    ring0_addr: 127.0.0.1\r\n    nodeid: 4\r\n  }\r\n}\r\n';
    const after = serializeCorosyncConf(setNodePrio(parseCorosyncConf(text), 4, 7));
    expect(changedLines(text, after)).toEqual({ removed: [], added: ['    prio: 7\r'] });
  });

  it('edits of generated documents change only the intended lines', () => {
    fc.assert(
      fc.property(validDocument, fc.nat(5), fc.nat({ max: 100000 }), (g, pick, prio) => {
        const node = g.nodes[pick % g.nodes.length]!;
        const doc = parseCorosyncConf(g.text);
        const edited = serializeCorosyncConf(bumpConfigVersion(setNodePrio(doc, node.nodeid, prio)));
        const { removed, added } = changedLines(g.text, edited);
        const strip = (l: string): string => l.replace(/[ \t\r]+$/, '');
        expect(
          added
            .map(strip)
            .map((l) => l.trim().replace(/\s*:\s*/, ': '))
            .sort(),
        ).toEqual([`config_version: ${g.configVersion + 1}`, ...(node.prio === prio ? [] : [`prio: ${prio}`])].sort());
        expect(removed.length).toBe(node.prio === undefined ? 1 : added.length);
        const view = viewCorosyncConf(parseCorosyncConf(edited));
        expect(view.nodes.map((n) => n.prio)).toEqual(g.nodes.map((n) => (n === node ? prio : n.prio)));
        expect(view.configVersion).toBe(BigInt(g.configVersion + 1));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses to edit a document corosync cannot parse', () => {
    const doc = parseCorosyncConf('totem {\n\tversion: 2\n\tconfig_version: 1\n');
    expect(() => bumpConfigVersion(doc)).toThrow(ConfigValidationError);
  });
});

/** One broken line per case: the message must name file:line:column and the field. */
const BASE = [
  'totem {', // 1
  '\tversion: 2', // 2
  '\tconfig_version: 3', // 3
  '}', // 4
  'quorum {', // 5
  '\texpected_votes: 2', // 6
  '}', // 7
  'nodelist {', // 8
  '\tnode {', // 9
  '\t\tring0_addr: 10.0.0.1', // 10
  '\t\tnodeid: 1', // 11
  '\t\tprio: 5', // 12
  '\t\treplication: on', // 13
  '\t}', // 14
  '\tnode {', // 15
  '\t\tring0_addr: 10.0.0.2', // 16
  '\t\tnodeid: 2', // 17
  '\t\tprio: 4', // 18
  '\t\treplication: off', // 19
  '\t}', // 20
  '}', // 21
];
const edit = (changes: Record<number, string | null>, extra: string[] = []): string => [...BASE.flatMap((l, i) => (changes[i + 1] === null ? [] : [changes[i + 1] ?? l])), ...extra].join('\n') + '\n';

const CASES: Array<[string, string, string]> = [
  ['unbalanced: missing "}"', edit({ 21: null }), 'c.conf:8:1: nodelist: section "nodelist" is never closed'],
  ['unbalanced: extra "}"', edit({}, ['}']), 'c.conf:22:1: (top level): unexpected "}"'],
  ['text after "{"', edit({ 15: '\tnode { nodeid: 3' }), 'c.conf:15:8: nodelist: extra characters after "{"'],
  ['text around "}"', edit({ 14: '\t} # end' }), 'c.conf:14:2: nodelist.node[0]: extra characters before or after "}"'],
  ['line that is nothing', edit({ 12: '\t\tprio 5' }), 'c.conf:12:3: nodelist.node[0]: line is not'],
  ['missing nodeid', edit({ 17: null }), 'c.conf:15:2: nodelist.node[1].nodeid: missing'],
  ['missing ring0_addr', edit({ 10: null }), 'c.conf:9:2: nodelist.node[0].ring0_addr: missing'],
  ['duplicate nodeid', edit({ 17: '\t\tnodeid: 1' }), 'c.conf:17:11: nodelist.node[1].nodeid: duplicate nodeid 1 (also on line 11)'],
  ['duplicate address', edit({ 16: '\t\tring0_addr: 10.0.0.1' }), 'c.conf:16:15: nodelist.node[1].ring0_addr: duplicate address 10.0.0.1 (also on line 10)'],
  ['prio not an integer', edit({ 18: '\t\tprio: high' }), 'c.conf:18:9: nodelist.node[1].prio: must be an integer (0 or more), got "high"'],
  ['replication not on/off', edit({ 13: '\t\treplication: yes' }), 'c.conf:13:16: nodelist.node[0].replication: must be on or off, got "yes"'],
  ['config_version negative', edit({ 3: '\tconfig_version: -1' }), 'c.conf:3:18: totem.config_version: must be an unsigned integer'],
  ['config_version too big', edit({ 3: '\tconfig_version: 18446744073709551616' }), 'c.conf:3:18: totem.config_version: must be an unsigned integer'],
  ['nodeid not an integer', edit({ 11: '\t\tnodeid: one' }), 'c.conf:11:11: nodelist.node[0].nodeid: must be an integer in 0..4294967295, got "one"'],
  ['nodeid too big for knet', edit({ 11: '\t\tnodeid: 70000' }), 'c.conf:11:11: nodelist.node[0].nodeid: must be at most 65535'],
  ['nodeid 0', edit({ 11: '\t\tnodeid: 0' }), 'c.conf:11:11: nodelist.node[0].nodeid: must not be 0'],
  ['expected_votes not an integer', edit({ 6: '\texpected_votes: many' }), 'c.conf:6:18: quorum.expected_votes: must be an integer in 0..4294967295'],
  ['totem version', edit({ 2: '\tversion: 3' }), 'c.conf:2:11: totem.version: must be 2'],
  ['totem version missing', edit({ 2: null }), 'c.conf:1:1: totem.version: missing'],
  ['bad transport', edit({}, ['totem {', '\ttransport: tcp', '}']), 'c.conf:23:13: totem.transport: must be one of udpu, udp, knet, got "tcp"'],
  ['key name corosync refuses', edit({ 13: '\t\trepl ication: on' }), 'c.conf:13:3: nodelist.node[0].repl ication: corosync refuses the key name'],
  ['mixed address families', edit({ 16: '\t\tring0_addr: fd00::2' }), 'c.conf:16:15: nodelist.node[1].ring0_addr: link 0 mixes IPv4 (line 10) and IPv6 addresses'],
  ['line too long', edit({ 12: `\t\tprio: ${'9'.repeat(520)}` }), 'c.conf:12:1: nodelist.node[0]: line too long'],
  ['two nodelist sections', edit({}, ['nodelist {', '\tnode {', '\t\tring0_addr: 10.0.0.3', '\t\tnodeid: 3', '\t}', '}']), 'c.conf:22:1: nodelist: second nodelist section (first on line 8)'],
  [
    'links of unequal size',
    edit({ 10: '\t\tring0_addr: 10.0.0.1\n\t\tring1_addr: 10.1.0.1\n\t\tname: a', 16: '\t\tring0_addr: 10.0.0.2\n\t\tname: b' }),
    'c.conf:17:2: nodelist.node[1].ring1_addr: missing: not all nodes have the same number of links',
  ],
  ['logging word (to_syslog)', edit({}, ['logging {', '\tto_syslog: maybe', '}']), 'c.conf:23:13: logging.to_syslog: must be one of yes, no, on, off, got "maybe"'],
  ['logging word (blackbox takes on/off only)', edit({}, ['logging {', '\tblackbox: yes', '}']), 'c.conf:23:12: logging.blackbox: must be one of on, off, got "yes"'],
  ['logging word (timestamp)', edit({}, ['logging {', '\ttimestamp: ON', '}']), 'c.conf:23:13: logging.timestamp: must be one of on, off, hires, got "ON"'],
  [
    'logging priority',
    edit({}, ['logging {', '\tsyslog_priority: warn', '}']),
    'c.conf:23:19: logging.syslog_priority: must be one of alert, crit, debug, emerg, err, error, info, notice, warning (any case), got "warn"',
  ],
  ['logging facility (case-sensitive)', edit({}, ['logging {', '\tsyslog_facility: DAEMON', '}']), 'c.conf:23:19: logging.syslog_facility: must be one of auth,'],
  [
    'logger_subsys: the first value in a section wins',
    edit({}, ['logging {', '\tlogger_subsys {', '\t\tsubsys: QUORUM', '\t\tdebug: x', '\t\tdebug: on', '\t}', '}']),
    'c.conf:25:10: logging.logger_subsys.debug: must be one of on, off, trace, got "x"',
  ],
  ['logger_subsys without subsys', edit({}, ['logging {', '\tlogger_subsys {', '\t\tdebug: on', '\t}', '}']), 'c.conf:23:2: logging.logger_subsys.subsys: missing'],
  ['link_mode', edit({ 2: '\tversion: 2\n\tlink_mode: RR' }), 'c.conf:3:13: totem.link_mode: must be one of active, passive, rr, got "RR"'],
  ['knet_transport', edit({}, ['totem {', '\tinterface {', '\t\tknet_transport: tcp', '\t}', '}']), 'c.conf:24:19: totem.interface[0].knet_transport: must be one of udp, sctp, got "tcp"'],
  [
    'crypto_cipher with crypto_hash none',
    edit({ 2: '\tversion: 2\n\tcrypto_cipher: aes256\n\tcrypto_hash: none' }),
    'c.conf:4:15: totem.crypto_hash: must not be none when crypto_cipher is aes256 (line 3)',
  ],
  ['crypto_cipher without crypto_hash', edit({ 2: '\tversion: 2\n\tcrypto_cipher: aes128' }), 'c.conf:3:17: totem.crypto_cipher: needs crypto_hash (other than none)'],
  ['secauth on with crypto_hash none', edit({ 2: '\tversion: 2\n\tsecauth: on\n\tcrypto_hash: none' }), 'c.conf:4:15: totem.crypto_hash: must not be none when secauth is on (line 3)'],
  [
    'crypto without knet',
    edit({ 2: '\tversion: 2\n\ttransport: udpu\n\tcrypto_cipher: aes256\n\tcrypto_hash: sha1' }),
    'c.conf:4:17: totem.crypto_cipher: crypto (crypto_cipher aes256, crypto_hash sha1) needs the knet transport, not udpu',
  ],
  [
    'leading zero in an IPv4 address (glibc: octal)',
    edit({ 16: '\t\tring0_addr: 172.031.224.74' }),
    'c.conf:16:15: nodelist.node[1].ring0_addr: ambiguous numeric IPv4 address "172.031.224.74": corosync (glibc inet_aton) reads it as 172.25.224.74',
  ],
  ['short IPv4 form', edit({ 16: '\t\tring0_addr: 127.1' }), 'c.conf:16:15: nodelist.node[1].ring0_addr: ambiguous numeric IPv4 address "127.1": corosync (glibc inet_aton) reads it as 127.0.0.1'],
  ['hex IPv4 form', edit({ 16: '\t\tring0_addr: 0x7f.0.0.1' }), 'c.conf:16:15: nodelist.node[1].ring0_addr: ambiguous numeric IPv4 address'],
  ['address glibc refuses too', edit({ 16: '\t\tring0_addr: 10.0.0.080' }), 'c.conf:16:15: nodelist.node[1].ring0_addr: must be an IPv4 or IPv6 address or a host name, got "10.0.0.080"'],
  ['multi-link without names', edit({ 10: '\t\tring0_addr: 10.0.0.1\n\t\tring1_addr: 10.1.0.1' }), 'c.conf:9:2: nodelist.node[0].name: missing'],
];

describe('validation errors name file:line:column and field', () => {
  it('the base document is valid', () => {
    expect(validateCorosyncConf(parseCorosyncConf(edit({}), 'c.conf'))).toEqual({ errors: [], warnings: [] });
  });
  for (const [what, text, expected] of CASES) {
    it(what, () => {
      const { errors } = validateCorosyncConf(parseCorosyncConf(text, 'c.conf'));
      expect(errors.length).toBeGreaterThan(0);
      expect(
        errors.map(String).some((m) => m.startsWith(expected)),
        errors.map(String).join('\n'),
      ).toBe(true);
      for (const e of errors) expect(String(e)).toMatch(/^c\.conf:\d+:\d+: \S.*: \S/);
    });
  }

  it("corosync's logging, link and crypto words are accepted, and only the value corosync reads is checked", () => {
    const text = edit({ 2: '\tversion: 2\n\tlink_mode: passive\n\tlink_mode: x\n\tlink_mode: rr\n\tsecauth: on\n\tcrypto_cipher: aes128' }, [
      'logging {',
      '\tto_syslog: maybe',
      '\tto_syslog: yes',
      '\tto_stderr: off',
      '\tto_logfile: on',
      '\ttimestamp: hires',
      '\tdebug: trace',
      '\tblackbox: off',
      '\tfileline: on',
      '\tfunction_name: off',
      '\tsyslog_facility: local7',
      '\tsyslog_priority: Info',
      '\tlogfile_priority: WARNING',
      '\tlogger_subsys {',
      '\t\tsubsys: QUORUM',
      '\t\tdebug: x',
      '\t}',
      '\tlogger_subsys {',
      '\t\tsubsys: QUORUM',
      '\t\tdebug: on',
      '\t\ttimestamp: ignored-here',
      '\t}',
      '\tlogger_subsys {',
      '\t\tsubsys: A.B',
      '\t\tdebug: never-read',
      '\t}',
      '}',
      'totem {',
      '\tinterface {',
      '\t\tlinknumber: 0',
      '\t\tknet_transport: tcp',
      '\t}',
      '\tinterface {',
      '\t\tlinknumber: 0',
      '\t\tknet_transport: sctp',
      '\t}',
      '}',
    ]);
    expect(validateCorosyncConf(parseCorosyncConf(text, 'c.conf')).errors.map(String)).toEqual([]);
  });

  it('expected_votes that disagrees with the node count is a warning, not an error', () => {
    const { errors, warnings } = validateCorosyncConf(parseCorosyncConf(edit({ 6: '\texpected_votes: 3' }), 'c.conf'));
    expect(errors).toEqual([]);
    expect(warnings.map(String)).toEqual(['c.conf:6:18: quorum.expected_votes: is 3 but the nodelist has 2 votes (2 nodes, quorum_votes default 1)']);
    expect(warnings[0]!.severity).toBe('warning');
  });

  it('expected_votes is compared with the sum of quorum_votes (default 1)', () => {
    const warningsOf = (changes: Record<number, string>): string[] => validateCorosyncConf(parseCorosyncConf(edit(changes), 'c.conf')).warnings.map(String);
    // 2 + 1 = 3: agrees, although there are 2 nodes.
    expect(warningsOf({ 6: '\texpected_votes: 3', 11: '\t\tnodeid: 1\n\t\tquorum_votes: 2' })).toEqual([]);
    expect(warningsOf({ 6: '\texpected_votes: 2', 11: '\t\tnodeid: 1\n\t\tquorum_votes: 2' })).toEqual([
      'c.conf:6:18: quorum.expected_votes: is 2 but the nodelist has 3 votes (2 nodes, quorum_votes default 1)',
    ]);
    expect(warningsOf({ 6: '\texpected_votes: 1', 11: '\t\tnodeid: 1\n\t\tquorum_votes: 0' })).toEqual([]);
  });

  it('loading throws one ConfigValidationError carrying every error as a ConfigError', () => {
    const text = edit({ 12: '\t\tprio: high', 19: '\t\treplication: maybe' });
    let thrown: unknown;
    try {
      loadCorosyncConfText(text, '/etc/corosync/corosync.conf');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ConfigValidationError);
    const errors = (thrown as ConfigValidationError).errors;
    expect(errors.every((e) => e instanceof ConfigError)).toBe(true);
    expect(errors.map((e) => [e.line, e.column, e.field])).toEqual([
      [12, 9, 'nodelist.node[0].prio'],
      [19, 16, 'nodelist.node[1].replication'],
    ]);
    expect(String(errors[0])).toBe('/etc/corosync/corosync.conf:12:9: nodelist.node[0].prio: must be an integer (0 or more), got "high"');
  });
});
