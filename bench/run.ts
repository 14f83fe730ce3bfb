// The benchmark runner: `npm run bench` runs every part, `npm run bench -- latency engine` only
// those. Each part writes its own section of BENCHMARKS.md from the numbers of this run; a part
// that fails gets a section saying so (and no numbers), and the exit code is 1.
import { arpPart } from './arp';
import { idlePart, soakPart } from './cost';
import { enginePart } from './engine';
import { failoverPart, scalePart } from './failover';
import { profileSoakPart } from './detection/profile-soak';
import { fencingPart } from './fencing';
import { latencyPart } from './latency';
import { peersPart } from './peers';
import { renderSection, verdict, writeSection } from './lib/benchmarks-md';
import type { BenchPart } from './lib/part';

const PARTS: readonly BenchPart[] = [latencyPart, failoverPart, arpPart, idlePart, soakPart, scalePart, enginePart, fencingPart, profileSoakPart, peersPart];

/** The exact command that reproduces this run, with the env knobs that were set. */
function commandLine(args: readonly string[], parts: readonly BenchPart[]): string {
  const envs = [...new Set(parts.flatMap((p) => p.env))].filter((name) => process.env[name] !== undefined && process.env[name] !== '').map((name) => `${name}=${process.env[name]}`);
  const cmd = process.env.npm_lifecycle_event === 'bench' ? `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}` : `node .bench-out/run.js${args.map((a) => ` ${a}`).join('')}`;
  return [...envs, cmd].join(' ');
}

function selectParts(args: readonly string[]): BenchPart[] {
  if (args.length === 0) return PARTS.filter((p) => p.optIn !== true);
  const unknown = args.filter((a) => !PARTS.some((p) => p.id === a));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark part(s): ${unknown.join(', ')}; parts: ${PARTS.map((p) => p.id).join(', ')}`);
  }
  return PARTS.filter((p) => args.includes(p.id));
}

async function main(args: readonly string[]): Promise<number> {
  let parts: BenchPart[];
  try {
    parts = selectParts(args);
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  const command = commandLine(args, parts);
  const t0 = Date.now();
  let failed = 0;
  for (const part of parts) {
    const startedAt = new Date();
    const log = (message: string): void => console.error(`[${part.id} +${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)}s] ${message}`);
    const sections = part.sections ?? [{ id: part.sectionId?.() ?? part.id, title: part.title }];
    let bodies: Record<string, string[]>;
    try {
      const out = await part.run({ log });
      bodies = Array.isArray(out) ? { [sections[0]!.id]: out } : out;
      log('done');
    } catch (e) {
      failed++;
      const message = e instanceof Error ? e.message : String(e);
      log(`FAILED: ${e instanceof Error ? (e.stack ?? message) : message}`);
      const note = [`**Not measured in the last run**: it failed with: ${message.split('\n')[0]}`];
      bodies = Object.fromEntries(sections.map((s) => [s.id, note]));
    }
    for (const { id, title } of sections) {
      const body = bodies[id];
      if (body === undefined) throw new Error(`benchmark part ${part.id} returned no section ${id}`);
      const section = renderSection({ id, title, source: part.source, command, startedAt }, [...body, '']);
      writeSection(id, section);
      console.log(`${section}\n`);
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  console.error(`benchmarks: ${parts.length - failed}/${parts.length} parts done in ${seconds.toFixed(0)} s`);
  if (args.length === 0) {
    // The whole suite must fit in 20 minutes (issue 7): say how long the last full run took.
    const optIn = PARTS.filter((p) => p.optIn === true).map((p) => p.id);
    const body = [
      `All ${parts.length} parts (${parts.map((p) => p.id).join(', ')}) ran in ${(seconds / 60).toFixed(1)} minutes (${Math.round(seconds)} s, build included in the command's time but not in this figure); ${failed === 0 ? 'none failed' : `${failed} failed`}. Budget: 20 minutes: ${verdict(seconds < 20 * 60)}.${optIn.length === 0 ? '' : ` Run only when named (longer than the budget): ${optIn.join(', ')}.`}`,
      '',
    ];
    const section = renderSection({ id: 'run', title: 'Last full run', source: 'bench/run.ts', command, startedAt: new Date(t0) }, body);
    writeSection('run', section);
    console.log(section);
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (e) => {
    console.error(e);
    process.exitCode = 1;
  },
);
