// `corolistener history [--json] [--since TIME]`: the decisions this node's daemon took, with
// their steps, from STATE_DIR/history.jsonl (src/daemon/history.ts). Read from the file, so it
// works while the daemon is stopped.
import { join } from 'node:path';
import { HISTORY_FILE, readHistory, type DecisionEntry, type StepEntry } from '../../daemon/history';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import type { CommandOf } from './types';

function stepText(s: StepEntry): string {
  return `${s.effect} ${s.outcome} ${s.durationMs} ms${s.attempts > 1 ? ` (${s.attempts} attempts)` : ''}${s.error === undefined ? '' : `: ${s.error}`}`;
}

/** One decision per line (its steps indented below it). */
export function formatHistory(decisions: readonly DecisionEntry[], steps: ReadonlyMap<string, StepEntry[]>): string {
  const out: string[] = [];
  for (const d of decisions) {
    const q = d.quorate ? 'quorate' : 'not quorate';
    const role = d.role === d.previousRole ? d.role : `${d.previousRole} -> ${d.role}`;
    out.push(`${d.time}  ${role}  master ${d.master ?? '-'}  members ${d.members.join(',') || '-'} (${q})${d.maintenance ? '  [maintenance]' : ''}  on ${d.trigger}`);
    out.push(`    ${d.explanation}`);
    for (const s of steps.get(`${d.run}#${d.seq}`) ?? []) out.push(`    - ${stepText(s)}`);
  }
  return out.length === 0 ? 'no decisions recorded\n' : `${out.join('\n')}\n`;
}

export async function run(command: CommandOf<'history'>, io: CliIo): Promise<number> {
  const file = join(command.stateDir, HISTORY_FILE);
  let entries;
  try {
    entries = await readHistory(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, EXIT.FAILURE);
  }
  const since = command.since;
  const kept = since === undefined ? entries : entries.filter((e) => Date.parse(e.time) >= since);
  if (command.json) {
    io.stdout.write(kept.map((e) => `${JSON.stringify(e)}\n`).join(''));
    return EXIT.OK;
  }
  const steps = new Map<string, StepEntry[]>();
  for (const e of kept) {
    if (e.kind !== 'step' || e.seq === null) continue;
    const key = `${e.run}#${e.seq}`;
    steps.set(key, [...(steps.get(key) ?? []), e]);
  }
  io.stdout.write(
    formatHistory(
      kept.filter((e): e is DecisionEntry => e.kind === 'decision'),
      steps,
    ),
  );
  return EXIT.OK;
}
