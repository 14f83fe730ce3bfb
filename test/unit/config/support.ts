// Shared by the config tests: the corpus of valid corosync.conf files and a generator of
// valid documents for property tests.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';

export const CORPUS_DIR = join(__dirname, 'corpus');

export interface CorpusFile {
  readonly name: string;
  readonly text: string;
}

export function corpus(): CorpusFile[] {
  return readdirSync(CORPUS_DIR)
    .filter((n) => n.endsWith('.conf'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(CORPUS_DIR, name), 'utf8') }));
}

/** The two files written from the examples in docs/design.md §1; their nodes are not this host. */
export const DESIGN_EXAMPLES = ['design-sketch.conf', 'design-node-list.conf'];

/** Line diff (longest common subsequence): the lines only in `before` and only in `after`. */
export function changedLines(before: string, after: string): { removed: string[]; added: string[] } {
  const a = before.split('\n');
  const b = after.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      i++;
      j++;
    } else if (j < b.length && (i === a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
      added.push(b[j++]!);
    } else {
      removed.push(a[i++]!);
    }
  }
  return { removed, added };
}

export interface GeneratedNode {
  readonly nodeid: number;
  readonly addr: string;
  readonly prio: number | undefined;
  readonly replication: 'on' | 'off' | undefined;
  readonly extra: ReadonlyArray<readonly [string, string]>;
}

export interface GeneratedDoc {
  readonly text: string;
  readonly configVersion: number;
  readonly nodes: readonly GeneratedNode[];
}

const keyName = fc.stringMatching(/^[a-z][a-z0-9_]{2,10}$/).filter((k) => !['nodeid', 'prio', 'replication', 'name'].includes(k) && !/^ring\d+_addr$/.test(k));
const plainValue = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ._/-]{0,20}[A-Za-z0-9]$/);
const comment = fc.stringMatching(/^#[^\r\n\0]{0,30}$/);

/**
 * Valid corosync.conf texts in many layouts: tabs or spaces, comments and blank lines between
 * anything, LF or CRLF, with or without a final newline, unknown sections and keys.
 */
export const validDocument: fc.Arbitrary<GeneratedDoc> = fc
  .record({
    indent: fc.constantFrom('\t', '  ', '    ', ' '),
    eol: fc.constantFrom('\n', '\r\n'),
    finalNewline: fc.boolean(),
    sep: fc.constantFrom(': ', ':', ' : ', ':\t'),
    configVersion: fc.nat({ max: 1_000_000 }),
    nodeCount: fc.integer({ min: 1, max: 6 }),
    prios: fc.array(fc.option(fc.nat({ max: 1000 }), { nil: undefined }), { minLength: 6, maxLength: 6 }),
    repl: fc.array(fc.constantFrom('on' as const, 'off' as const, undefined), { minLength: 6, maxLength: 6 }),
    ids: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 6, maxLength: 6 }),
    extras: fc.array(fc.array(fc.tuple(keyName, plainValue), { maxLength: 2 }), { minLength: 6, maxLength: 6 }),
    comments: fc.array(fc.option(comment, { nil: undefined }), { minLength: 40, maxLength: 40 }),
    blanks: fc.array(fc.constantFrom('', ' ', '\t', undefined, undefined, undefined), { minLength: 40, maxLength: 40 }),
    trailing: fc.array(fc.constantFrom('', '', '', ' ', '\t'), { minLength: 80, maxLength: 80 }),
    unknownSection: fc.option(fc.array(fc.tuple(keyName, plainValue), { maxLength: 3 }), { nil: undefined }),
  })
  .map((g) => {
    const nodes: GeneratedNode[] = Array.from({ length: g.nodeCount }, (_, i) => ({
      nodeid: g.ids[i]!,
      addr: i === 0 ? '127.0.0.1' : `10.${(i >> 8) & 255}.${i & 255}.${i + 1}`,
      prio: g.prios[i],
      replication: g.repl[i],
      extra: g.extras[i]!,
    }));
    const out: string[] = [];
    let c = 0;
    let t = 0;
    const line = (depth: number, s: string): void => {
      const comment = g.comments[c % 40];
      const blank = g.blanks[c % 40];
      c++;
      if (comment !== undefined) out.push(g.indent.repeat(depth) + comment);
      if (blank !== undefined) out.push(blank);
      out.push(g.indent.repeat(depth) + s + g.trailing[t++ % 80]);
    };
    const kv = (depth: number, k: string, v: string): void => line(depth, `${k}${g.sep}${v}`);
    line(0, 'totem {');
    kv(1, 'version', '2');
    kv(1, 'cluster_name', 'VMmanager');
    kv(1, 'config_version', String(g.configVersion));
    line(0, '}');
    line(0, 'quorum {');
    kv(1, 'provider', 'corosync_votequorum');
    kv(1, 'expected_votes', String(g.nodeCount));
    line(0, '}');
    if (g.unknownSection) {
      line(0, 'ihttpd {');
      for (const [k, v] of g.unknownSection) kv(1, k, v);
      line(0, '}');
    }
    line(0, 'nodelist {');
    for (const n of nodes) {
      line(1, 'node {');
      kv(2, 'ring0_addr', n.addr);
      kv(2, 'nodeid', String(n.nodeid));
      if (n.prio !== undefined) kv(2, 'prio', String(n.prio));
      if (n.replication !== undefined) kv(2, 'replication', n.replication);
      for (const [k, v] of n.extra) kv(2, k, v);
      line(1, '}');
    }
    line(0, '}');
    const text = out.join(g.eol) + (g.finalNewline ? g.eol : '');
    return { text, configVersion: g.configVersion, nodes };
  });
