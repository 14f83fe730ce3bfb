// The design lives in the repository (issue 14): every citation of it names docs/design.md
// (`docs/design.md §N`), never the original specification outside the tree, which a clone does
// not have. Every tracked file (`git ls-files`) is read, binary fixtures included (bad-input
// corosync.conf files with NUL bytes are still text to a reader), and each line is checked:
// - any mention of the design's file name (any case) must be exactly `docs/design.md`, or, in a
//   file under docs/, a relative Markdown link to it: `](` or `](./` right before the name;
// - no path may lead into the parent directory's `shared` folder (dot-dot, slash, shared).
// A failure names every offending file and line.
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '../../..');

// Written with escapes so that this file's own text never matches them.
const DESIGN_FILE = /design\.md/gi;
const OUTSIDE_PATH = /\.\.\/shared/g;

/** Why `line` of `file` (a path relative to the repository root) cites the design wrongly, or []. */
export function badCitations(file: string, line: string): string[] {
  const problems: string[] = [];
  for (const m of line.matchAll(DESIGN_FILE)) {
    const at = m.index;
    const exact = m[0] === m[0].toLowerCase();
    const inDocs = exact && line.slice(Math.max(0, at - 5), at) === 'docs/';
    const docsLink = exact && file.startsWith('docs/') && /\]\((\.\/)?$/.test(line.slice(Math.max(0, at - 4), at));
    if (!inDocs && !docsLink) problems.push(`cites "${line.slice(Math.max(0, at - 12), at + m[0].length).trim()}" instead of docs/design.md`);
  }
  for (const m of line.matchAll(OUTSIDE_PATH)) {
    problems.push(`points outside the repository: "${line.slice(m.index, m.index + 24).trim()}"`);
  }
  return problems;
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return out.split('\0').filter((f) => f !== '');
}

describe('citations of the design', () => {
  it('recognises good and bad citations', () => {
    expect(badCitations('src/a.ts', '// the address first (docs/design.md §1)')).toEqual([]);
    expect(badCitations('README.md', 'is [docs/design.md](docs/design.md).')).toEqual([]);
    expect(badCitations('test/x.ts', "corpus().find((f) => f.name === 'design-sketch.conf')")).toEqual([]);
    // The other examples are assembled at run time: written out, this file would fail itself.
    const name = ['design', 'md'].join('.');
    const upper = name.toUpperCase();
    const outside = ['..', 'shared'].join('/');
    expect(badCitations('docs/engine.md', `see [docs/${name} §1](${name}#1-specification)`)).toEqual([]);
    expect(badCitations('docs/engine.md', `see [§2](./${name}#2-architecture)`)).toEqual([]);
    expect(badCitations('src/a.ts', `// (${upper} §1)`)).toHaveLength(1);
    expect(badCitations('src/a.ts', `// see ${name}`)).toHaveLength(1);
    expect(badCitations('README.md', `The specification is \`${outside}/${upper}\``)).toHaveLength(2);
    expect(badCitations('scripts/x', `cat ${outside}/notes.txt`)).toHaveLength(1);
    expect(badCitations('src/a.ts', `see [it](${name})`)).toHaveLength(1); // a relative link outside docs/
    expect(badCitations('docs/a.md', `docs/${upper}`)).toHaveLength(1);
  });

  it('every tracked file cites docs/design.md, nothing outside the repository', () => {
    const problems: string[] = [];
    for (const file of trackedFiles()) {
      const path = resolve(ROOT, file);
      let stat;
      try {
        stat = lstatSync(path);
      } catch {
        continue; // deleted in the work tree, not yet committed
      }
      if (!stat.isFile()) continue;
      // latin1 maps every byte to one character: the patterns are ASCII, so any encoding works.
      const lines = readFileSync(path).toString('latin1').split('\n');
      lines.forEach((line, i) => {
        for (const p of badCitations(file, line)) problems.push(`${file}:${i + 1}: ${p}`);
      });
    }
    expect(problems, `cite the design as docs/design.md §N:\n${problems.join('\n')}`).toEqual([]);
  });
});
