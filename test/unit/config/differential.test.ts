// Differential test: our validator against corosync's own parser (`corosync -t -c FILE`) on the
// corpus and on mutants of it. Both must accept and reject the same files, except for the
// deliberate differences listed below (also in docs/config.md), each of which is asserted to
// be exactly that: corosync accepts, and every error we report is one of these rules.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corosyncCheckFile, parseCorosyncConf, validateCorosyncConf } from '../../../src/config';
import { corosyncForTests } from './corosync-availability';
import { DESIGN_EXAMPLES, corpus } from './support';

/** Rules where we are stricter than corosync 3.1.7 on purpose. */
const DELIBERATE: ReadonlyArray<readonly [string, RegExp]> = [
  ['prio must be a plain non-negative integer (corosync keeps unknown keys as strings)', /\.prio: must be an integer/],
  ['replication must be on or off (unknown key to corosync)', /\.replication: must be on or off/],
  ['config_version: digits only; corosync\'s strtoull also takes "+5" and "-1" (= 2^64-1)', /totem\.config_version: must be an unsigned integer/],
  ['every node needs ring0_addr (corosync skips address-less nodes)', /\.ring0_addr: missing/],
  ['every node needs a non-zero nodeid, whatever the transport (corosync: knet only)', /\.nodeid: (missing|must not be 0)/],
  ['no two nodes share an address on a link', /duplicate address/],
  ['no empty key before ":" (corosync stores it as "section." or "section.:")', /empty key/],
  ['a nodelist with at least one node', /no node sections/],
  ['one nodelist section (corosync numbers the nodes of each from 0: later ones overwrite)', /second nodelist section/],
  ['IPv4 addresses in dotted-quad decimal only (glibc reads "031" as octal 25, "127.1" as 127.0.0.1)', /_addr: ambiguous numeric IPv4 address/],
];

/** corosync refusals that depend on the machine, not the file: out of our validator's reach. */
const HOST_DEPENDENT: readonly RegExp[] = [/No valid name found for local host/];
/**
 * corosync refusals we do not model: totem timing limits (join/token/consensus... minimums and
 * their relations, exec/totemconfig.c). The writer still never installs such a file, because
 * it runs `corosync -t` on it first.
 */
const NOT_MODELLED: readonly RegExp[] = [/parameter \(\d+ ms\) may not be less than/, /Not appropriate token or token_retransmits_before_loss_const/];

const verdict = (text: string): { ok: boolean; errors: string[] } => {
  const errors = validateCorosyncConf(parseCorosyncConf(text, 'mutant.conf')).errors.map(String);
  return { ok: errors.length === 0, errors };
};

/** mulberry32: a fixed seed gives the same mutants on every run and machine. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Mutation = (lines: string[], pick: <T>(xs: readonly T[]) => T, eol: string) => string[] | undefined;

const indexesOf = (lines: string[], re: RegExp): number[] => lines.flatMap((l, i) => (re.test(l) ? [i] : []));
const setValue =
  (key: string, values: readonly string[]): Mutation =>
  (lines, pick) => {
    const at = indexesOf(lines, new RegExp(`^\\s*${key}\\s*:`));
    if (at.length === 0) return undefined;
    const i = pick(at);
    const copy = [...lines];
    copy[i] = copy[i]!.replace(/:.*?(\r?)$/, `: ${pick(values)}$1`);
    return copy;
  };
const insertInto =
  (sectionRe: RegExp, text: (pick: <T>(xs: readonly T[]) => T) => string[]): Mutation =>
  (lines, pick, eol) => {
    const at = indexesOf(lines, sectionRe);
    if (at.length === 0) return undefined;
    const i = pick(at);
    return [...lines.slice(0, i + 1), ...text(pick).map((l) => l + eol), ...lines.slice(i + 1)];
  };

/** Inserts before the "}" that closes the first section matching `sectionRe`. */
const insertBeforeClose =
  (sectionRe: RegExp, text: (pick: <T>(xs: readonly T[]) => T) => string[]): Mutation =>
  (lines, pick, eol) => {
    const start = lines.findIndex((l) => sectionRe.test(l));
    const end = lines.findIndex((l, k) => k > start && /^}\s*$/.test(l));
    if (start < 0 || end < 0) return undefined;
    return [...lines.slice(0, end), ...text(pick).map((l) => l + eol), ...lines.slice(end)];
  };
const AUTHKEY = '@AUTHKEY@';
const LOGGING_KEYS = ['to_syslog', 'to_stderr', 'to_logfile', 'timestamp', 'debug', 'blackbox', 'fileline', 'function_name', 'syslog_facility', 'syslog_priority', 'logfile_priority'];

const MUTATIONS: ReadonlyArray<readonly [string, Mutation]> = [
  [
    'delete a line',
    (lines, pick) => {
      const i = pick(lines.map((_, k) => k));
      return lines.filter((_, k) => k !== i);
    },
  ],
  [
    'duplicate a line',
    (lines, pick) => {
      const i = pick(lines.map((_, k) => k));
      return [...lines.slice(0, i + 1), ...lines.slice(i)];
    },
  ],
  [
    'delete a "}"',
    (lines, pick) => {
      const at = indexesOf(lines, /^\s*}\s*$/);
      const i = pick(at);
      return lines.filter((_, k) => k !== i);
    },
  ],
  [
    'extra "}"',
    (lines, pick, eol) => {
      const i = pick(lines.map((_, k) => k));
      return [...lines.slice(0, i), `}${eol}`, ...lines.slice(i)];
    },
  ],
  [
    'text after "{"',
    (lines, pick) => {
      const i = pick(indexesOf(lines, /\{\s*$/));
      const c = [...lines];
      c[i] = c[i]!.replace('{', pick(['{ x', '{ }', '{{', '{ # c']));
      return c;
    },
  ],
  [
    'text around "}"',
    (lines, pick) => {
      const i = pick(indexesOf(lines, /^\s*}\s*$/));
      const c = [...lines];
      c[i] = c[i]!.replace('}', pick(['} # end', 'x }', '}}', '};']));
      return c;
    },
  ],
  [
    '"{" on its own line',
    (lines, pick, eol) => {
      const i = pick(indexesOf(lines, /\w\s*\{\s*$/));
      const c = [...lines];
      c.splice(i, 1, c[i]!.replace(/\s*\{/, ''), `{${eol}`);
      return c;
    },
  ],
  [
    'key without ":"',
    (lines, pick) => {
      const i = pick(indexesOf(lines, /^\s*\w+\s*:/));
      const c = [...lines];
      c[i] = c[i]!.replace(/\s*:\s*/, ' ');
      return c;
    },
  ],
  [
    'key/value spacing',
    (lines, pick) => {
      const i = pick(indexesOf(lines, /^\s*\w+\s*:/));
      const c = [...lines];
      c[i] = c[i]!.replace(/\s*:\s*/, pick([':', ' : ', ':\t\t', ' :']));
      return c;
    },
  ],
  [
    're-indent',
    (lines, pick) => {
      const ind = pick(['', ' ', '\t\t\t', '        ']);
      return lines.map((l) => l.replace(/^[ \t]*/, ind));
    },
  ],
  ['CRLF', (lines) => (lines[0]!.endsWith('\r') ? undefined : lines.map((l, i) => (i === lines.length - 1 ? l : `${l}\r`)))],
  ['blank and comment lines', insertInto(/./, (pick) => [pick(['', '   ', '\t', '# note', '   # indented note', '#'])])],
  ['long line', insertInto(/./, (pick) => [`# ${'x'.repeat(pick([507, 508, 509, 600]))}`])],
  ['key corosync refuses', insertInto(/\{\s*$/, (pick) => [pick(['\tbad key: 1', '\tkey@x: 1', '\tkéy: 1', '\tok_key: 1', '\tk.e-y/1:z: 2'])])],
  ['empty key', insertInto(/\{\s*$/, (pick) => [pick(['\t: 1', '\t:1'])])],
  [
    'unknown section',
    insertInto(/^}\s*$/, (pick) =>
      pick([
        ['ihttpd2 {', '\tport0: 1', '}'],
        ['extra {', '\tsub {', '\t\tk1: v', '\t}', '}'],
        ['my section {', '\tk1: 1', '}'],
        ['empty {', '}'],
      ]),
    ),
  ],
  ['top-level key', insertInto(/^}\s*$/, (pick) => [pick(['a: 1', 'abc: 1', 'ab: 1', 'x'.repeat(260) + ': 1'])])],
  ['config_version', setValue('config_version', ['0', '5', '007', '18446744073709551615', '18446744073709551616', '-1', '+5', 'abc', '1.5', '', '7 8'])],
  ['nodeid', setValue('nodeid', ['1', '12', '65535', '65536', '0', '-0', '-1', 'abc', '4294967296', '+3', '013', ''])],
  ['prio', setValue('prio', ['0', '100', '007', 'high', '-1', '1.5', '', '+1'])],
  ['replication', setValue('replication', ['on', 'off', 'yes', 'ON', '', '1'])],
  ['ring0_addr', setValue('ring0_addr', ['10.77.0.1', '127.0.0.1', '', 'fd00::77', '300.1.1.1', '10.0.0.'])],
  ['odd IPv4 forms', setValue('ring0_addr', ['010.0.0.1', '172.031.0.1', '127.000.000.001', '0177.0.0.1', '0x7f.0.0.1', '127.1', '10.0.0.080'])],
  ['expected_votes', setValue('expected_votes', ['0', '1', '3', '9', 'abc', '-1', '+2', '4294967296'])],
  ['totem version', setValue('version', ['2', '02', '+2', '1', '3', 'two', ''])],
  ['transport', insertInto(/^totem\s*\{/, (pick) => [`\ttransport: ${pick(['knet', 'udpu', 'udp', 'tcp', ''])}`])],
  ['typed totem key', insertInto(/^totem\s*\{/, (pick) => [`\t${pick(['token', 'join', 'netmtu'])}: ${pick(['3000', 'abc', '-5', '4294967296', '+7'])}`])],
  ['crypto words', insertInto(/^totem\s*\{/, (pick) => [`\t${pick(['crypto_cipher', 'crypto_hash'])}: ${pick(['none', 'des', 'NONE', ''])}`])],
  // At the end of totem, so that these values win over the base's own. The key file exists
  // (AUTHKEY is replaced by its path), so corosync judges the pair, not a missing key.
  [
    'crypto pair',
    insertBeforeClose(/^totem\s*\{/, (pick) => [
      ...pick([[], ['\tsecauth: on'], ['\tsecauth: off']]),
      ...pick([[], ['\tcrypto_cipher: aes256'], ['\tcrypto_cipher: aes128'], ['\tcrypto_cipher: none']]),
      ...pick([[], ['\tcrypto_hash: none'], ['\tcrypto_hash: sha256']]),
      `\tkeyfile: ${AUTHKEY}`,
    ]),
  ],
  ['link_mode', insertInto(/^totem\s*\{/, (pick) => [`\tlink_mode: ${pick(['active', 'passive', 'rr', 'RR', 'Active', '', 'x'])}`])],
  ['knet_transport', insertInto(/^totem\s*\{/, (pick) => ['\tinterface {', `\t\tknet_transport: ${pick(['udp', 'sctp', 'UDP', 'tcp', ''])}`, '\t}'])],
  [
    'logging words',
    insertInto(/^}\s*$/, (pick) => {
      const line = `${pick(LOGGING_KEYS)}: ${pick(['yes', 'no', 'on', 'off', 'hires', 'trace', 'ON', '', 'Info', 'warn', 'err', 'daemon', 'local9'])}`;
      return pick([
        ['logging {', `\t${line}`, '}'],
        ['logging {', '\tlogger_subsys {', '\t\tsubsys: QUORUM', `\t\t${line}`, '\t}', '}'],
        ['logging {', '\tlogger_subsys {', `\t\t${line}`, '\t}', '}'],
      ]);
    }),
  ],
  ['ip_version', insertInto(/^totem\s*\{/, (pick) => [`\tip_version: ${pick(['ipv4', 'ipv6-4', 'ipv5'])}`])],
  ['ihttpd values', setValue('port0', ['1500', 'x', '0', '70000'])],
  [
    'delete nodeid',
    (lines, pick) => {
      const at = indexesOf(lines, /^\s*nodeid\s*:/);
      return at.length ? lines.filter((_, k) => k !== pick(at)) : undefined;
    },
  ],
  [
    'delete ring0_addr',
    (lines, pick) => {
      const at = indexesOf(lines, /^\s*ring0_addr\s*:/);
      return at.length ? lines.filter((_, k) => k !== pick(at)) : undefined;
    },
  ],
  ['empty node', insertInto(/^\s*nodelist\s*\{/, () => ['\tnode {', '\t}'])],
  [
    'copy of a node',
    (lines, pick) => {
      const starts = indexesOf(lines, /^\s*node\s*\{/);
      if (starts.length === 0) return undefined;
      const s = pick(starts);
      const e = lines.findIndex((l, k) => k > s && /^\s*}\s*$/.test(l));
      return [...lines.slice(0, e + 1), ...lines.slice(s, e + 1), ...lines.slice(e + 1)];
    },
  ],
  ['repeated key in node', insertInto(/^\s*node\s*\{/, (pick) => [`\t\t${pick(['prio: 1', 'nodeid: 99', 'replication: off'])}`])],
  ['second nodelist', insertInto(/^}\s*$/, () => ['nodelist {', '\tnode {', '\t\tring0_addr: 10.9.9.9', '\t\tnodeid: 99', '\t}', '}'])],
  ['node outside nodelist', insertInto(/^}\s*$/, () => ['node {', '\tring0_addr: 10.9.9.9', '\tnodeid: 99', '}'])],
];

function localize(text: string): string {
  return text.replace(/ring0_addr: [0-9.]+/, 'ring0_addr: 127.0.0.1');
}

/** Deeper runs: MUTANTS=1500 MUTANT_SEED=7 npx vitest run test/unit/config/differential.test.ts */
const MUTANT_COUNT = Number(process.env['MUTANTS'] ?? 300);
const MUTANT_SEED = Number(process.env['MUTANT_SEED'] ?? 20261122);

function mutants(bases: readonly string[], wanted: number): Array<{ what: string; text: string }> {
  const random = rng(MUTANT_SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const seen = new Set(bases);
  const out: Array<{ what: string; text: string }> = [];
  for (let attempt = 0; out.length < wanted && attempt < wanted * 20; attempt++) {
    const [what, mutate] = MUTATIONS[attempt % MUTATIONS.length]!;
    const base = pick(bases);
    const eol = base.includes('\r\n') ? '\r' : '';
    const lines = mutate(base.split('\n'), pick, eol);
    if (!lines) continue;
    const text = lines.join('\n');
    if (seen.has(text)) continue;
    seen.add(text);
    out.push({ what, text });
  }
  return out;
}

const { binary, skip } = await corosyncForTests('differential test against corosync -t');

describe.skipIf(skip)('differential: our validation vs corosync -t', () => {
  let dir = '';
  let counter = 0;
  const corosyncOk = async (text: string): Promise<{ ok: boolean; message: string }> => {
    const file = join(dir, `m${counter++}.conf`);
    await writeFile(file, text.split(AUTHKEY).join(join(dir, 'authkey')));
    return corosyncCheckFile(binary!, file);
  };
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'corolistener-differential-'));
    await writeFile(join(dir, 'authkey'), randomBytes(256), { mode: 0o600 });
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('corosync is installed (required in CI)', () => {
    expect(binary, 'corosync must be installed where CI runs this test').toBeDefined();
  });

  it('docs/design.md §1 examples: we accept; corosync only objects that no node is this host', async () => {
    for (const name of DESIGN_EXAMPLES) {
      const text = corpus().find((f) => f.name === name)!.text;
      expect(verdict(text).errors).toEqual([]);
      const asIs = await corosyncOk(text);
      expect(asIs.ok).toBe(false);
      expect(asIs.message).toContain('No valid name found for local host');
      expect(await corosyncOk(localize(text)), name).toMatchObject({ ok: true });
    }
  });

  it('every corpus file is accepted by both', async () => {
    for (const { name, text } of corpus()) {
      if (DESIGN_EXAMPLES.includes(name)) continue;
      expect(verdict(text).errors, name).toEqual([]);
      expect(await corosyncOk(text), name).toMatchObject({ ok: true });
    }
  });

  it(
    '>= 200 mutants: same verdict as corosync, or a documented deliberate difference',
    async () => {
      const bases = corpus().map((f) => (DESIGN_EXAMPLES.includes(f.name) ? localize(f.text) : f.text));
      const list = mutants(bases, MUTANT_COUNT);
      expect(list.length).toBeGreaterThanOrEqual(200);
      const results: Array<{ what: string; text: string; ours: ReturnType<typeof verdict>; theirs: { ok: boolean; message: string } }> = [];
      const queue = [...list];
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let m = queue.shift(); m; m = queue.shift()) results.push({ ...m, ours: verdict(m.text), theirs: await corosyncOk(m.text) });
        }),
      );
      const tally = { bothAccept: 0, bothReject: 0, deliberate: new Map<string, number>() };
      const mismatches: string[] = [];
      for (const r of results) {
        if (r.ours.ok === r.theirs.ok) {
          if (r.ours.ok) tally.bothAccept++;
          else tally.bothReject++;
          continue;
        }
        const rules = r.ours.errors.map((e) => DELIBERATE.find(([, re]) => re.test(e)));
        // With two nodelists corosync's node table differs from ours, so our other errors about
        // nodes are moot; errors about anything else must still be deliberate ones.
        const secondList = rules.some((rule) => rule?.[1].source === 'second nodelist section');
        const excused = rules.map((rule, i) => rule !== undefined || (secondList && /^[^:]+:\d+:\d+: nodelist[.[:]/.test(r.ours.errors[i]!)));
        if (!r.ours.ok && r.theirs.ok && excused.every(Boolean)) {
          for (const rule of rules) if (rule) tally.deliberate.set(rule[0], (tally.deliberate.get(rule[0]) ?? 0) + 1);
          continue;
        }
        const excuse =
          r.ours.ok && !r.theirs.ok
            ? HOST_DEPENDENT.some((re) => re.test(r.theirs.message))
              ? 'host-dependent (corosync -t)'
              : NOT_MODELLED.some((re) => re.test(r.theirs.message))
                ? 'totem timing limits (corosync -t)'
                : undefined
            : undefined;
        if (excuse) {
          tally.deliberate.set(excuse, (tally.deliberate.get(excuse) ?? 0) + 1);
          continue;
        }
        mismatches.push(`[${r.what}] ours: ${r.ours.ok ? 'accept' : r.ours.errors.join(' | ')}; corosync: ${r.theirs.ok ? 'accept' : r.theirs.message}\n${r.text}`);
      }
      console.log(`differential: ${results.length} mutants, both accept ${tally.bothAccept}, both reject ${tally.bothReject}, deliberate`, Object.fromEntries(tally.deliberate));
      expect(mismatches, mismatches.map((m) => m.slice(0, 300)).join('\n-----\n')).toEqual([]);
      // The corpus must exercise both sides, or agreement means nothing.
      expect(tally.bothAccept).toBeGreaterThanOrEqual(40);
      expect(tally.bothReject).toBeGreaterThanOrEqual(60);
      // 300 corosync runs: a few seconds alone, much longer on a loaded 2-core machine.
    },
    180_000 + MUTANT_COUNT * 200,
  );
});
