// No source file over 500 lines: a longer one is split by responsibility (issue 14).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '../../../src');
const MAX_LINES = 500;

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : e.isFile() ? [p] : [];
  });
}

function lineCount(file: string): number {
  const text = fs.readFileSync(file, 'utf8');
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

describe('source file size', () => {
  it(`no file under src/ has more than ${MAX_LINES} lines`, () => {
    const files = filesUnder(SRC);
    expect(files.length).toBeGreaterThan(0);
    const tooLong = files
      .map((f) => ({ file: path.relative(path.dirname(SRC), f), lines: lineCount(f) }))
      .filter((f) => f.lines > MAX_LINES)
      .map((f) => `${f.file}: ${f.lines} lines`)
      .sort();
    expect(tooLong, `over ${MAX_LINES} lines: split these by responsibility`).toEqual([]);
  });
});
