// BENCHMARKS.md is assembled from sections, each written only by its benchmark between
// `<!-- id:begin ... -->` and `<!-- id:end -->` markers, so every figure in it comes from a run
// and re-running one benchmark leaves the others' sections untouched.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { machineLine } from './machine';
import { repoPath } from './paths';
import { summarize } from './stats';

export const BENCHMARKS_MD = repoPath('BENCHMARKS.md');

const HEADER = '# Benchmarks\n\nEach section is written by the benchmark named in it; run them all with `npm run bench` (see bench/README.md).\n';

export interface SectionMeta {
  /** Marker id, also the part's name on the command line. */
  id: string;
  title: string;
  /** Repository path of the benchmark's source, named in the marker. */
  source: string;
  /** The exact command that produced the section. */
  command: string;
  /** When the run started. */
  startedAt: Date;
}

function markers(id: string): { begin: string; end: string } {
  return { begin: `<!-- ${id}:begin`, end: `<!-- ${id}:end -->` };
}

/** The whole section text: markers, heading, machine, command, then the benchmark's own lines. */
export function renderSection(meta: SectionMeta, body: readonly string[]): string {
  const { end } = markers(meta.id);
  return [
    `<!-- ${meta.id}:begin (written by ${meta.source}; do not edit by hand) -->`,
    `## ${meta.title}`,
    '',
    `Machine: ${machineLine()}. Run: ${meta.startedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${loadavg()[0]!.toFixed(2)} at its end.`,
    '',
    `Command: \`${meta.command}\``,
    '',
    ...body,
    end,
  ].join('\n');
}

/** Replaces the section `id` of `text` (appending it if absent). Pure. */
export function replaceSection(text: string, id: string, section: string): string {
  const { begin, end } = markers(id);
  const from = text.indexOf(begin);
  const to = from < 0 ? -1 : text.indexOf(end, from);
  if (from >= 0 && to >= 0) return text.slice(0, from) + section + text.slice(to + end.length);
  if (from >= 0) throw new Error(`BENCHMARKS.md: section ${id} has a begin marker but no "${end}"`);
  return `${text.trimEnd()}\n\n${section}\n`;
}

/** Writes `section` into BENCHMARKS.md (created if missing) via a temp file and rename. */
export function writeSection(id: string, section: string, file: string = BENCHMARKS_MD): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    text = HEADER;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, replaceSection(text, id, section));
  renameSync(tmp, file);
}

export type Align = 'l' | 'r';

/** A Markdown table; `align` per column (default right-aligned, as most columns are numbers). */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>, align: readonly Align[] = []): string[] {
  const sep = headers.map((_, i) => ((align[i] ?? 'r') === 'r' ? '---:' : ':---'));
  return [headers, sep, ...rows].map((cells) => `| ${cells.join(' | ')} |`);
}

/** "met" / "NOT met" with the measured value, for a target line. */
export function verdict(met: boolean): string {
  return met ? 'met' : '**NOT met**';
}

export const SUMMARY_HEADERS = ['', 'median', 'p95', 'p99', 'max'] as const;

/** A table row `label | median | p95 | p99 | max` of `xs`, with `digits` decimals. */
export function summaryRow(label: string, xs: ArrayLike<number>, digits = 1): string[] {
  const s = summarize(xs);
  return [label, ...[s.median, s.p95, s.p99, s.max].map((v) => v.toFixed(digits))];
}
