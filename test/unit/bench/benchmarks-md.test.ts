import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { renderSection, replaceSection, table, writeSection } from '../../../bench/lib/benchmarks-md';

const meta = { id: 'demo', title: 'Demo', source: 'bench/demo.ts', command: 'npm run bench -- demo', startedAt: new Date('2026-11-22T03:04:05Z') };

describe('BENCHMARKS.md sections', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
  const tmpFile = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'bench-md-'));
    dirs.push(d);
    return join(d, 'BENCHMARKS.md');
  };

  it('renders markers, heading, machine, command and body', () => {
    const s = renderSection(meta, ['body line']);
    const lines = s.split('\n');
    expect(lines[0]).toBe('<!-- demo:begin (written by bench/demo.ts; do not edit by hand) -->');
    expect(lines[1]).toBe('## Demo');
    expect(lines[3]).toMatch(/^Machine: \d+ CPUs \(nproc\), .*Node v\d+.*Run: 2026-11-22 03:04 UTC, load average \d+\.\d\d at its end\.$/);
    expect(lines[5]).toBe('Command: `npm run bench -- demo`');
    expect(lines.at(-2)).toBe('body line');
    expect(lines.at(-1)).toBe('<!-- demo:end -->');
  });

  it('replaces only its own section and appends a missing one', () => {
    const text = '# B\n\n<!-- a:begin x -->\nold a\n<!-- a:end -->\n\n<!-- demo:begin y -->\nold\n<!-- demo:end -->\n\ntail\n';
    const replaced = replaceSection(text, 'demo', '<!-- demo:begin z -->\nnew\n<!-- demo:end -->');
    expect(replaced).toBe('# B\n\n<!-- a:begin x -->\nold a\n<!-- a:end -->\n\n<!-- demo:begin z -->\nnew\n<!-- demo:end -->\n\ntail\n');
    expect(replaceSection('# B\n', 'c', 'C')).toBe('# B\n\nC\n');
    expect(() => replaceSection('<!-- demo:begin\n', 'demo', 'x')).toThrow(/no "<!-- demo:end -->"/);
  });

  it('writeSection creates the file with a header, then edits it in place', () => {
    const file = tmpFile();
    writeSection('demo', '<!-- demo:begin -->\n1\n<!-- demo:end -->', file);
    expect(readFileSync(file, 'utf8')).toMatch(/^# Benchmarks\n[\s\S]*<!-- demo:begin -->\n1\n<!-- demo:end -->\n$/);
    writeFileSync(file, readFileSync(file, 'utf8') + 'after\n');
    writeSection('demo', '<!-- demo:begin -->\n2\n<!-- demo:end -->', file);
    expect(readFileSync(file, 'utf8')).toMatch(/<!-- demo:begin -->\n2\n<!-- demo:end -->\nafter\n$/);
  });

  it('tables', () => {
    expect(table(['a', 'n'], [['x', '1']], ['l'])).toEqual(['| a | n |', '| :--- | ---: |', '| x | 1 |']);
  });
});
