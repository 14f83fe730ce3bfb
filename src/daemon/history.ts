// The decision history (issue 18, `corolistener history`): every engine decision with its time,
// trigger, membership, role, master, the engine's explanation and its effects, and every step's
// outcome and duration, as JSON lines in STATE_DIR/history.jsonl. Bounded: once the file holds
// more than `max` + 10% entries it is rewritten (temp file, rename) with the newest `max`. It
// survives restarts; a torn last line (power loss mid-append) is skipped when read.
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Decision, Effect, EngineEvent, EngineState } from '../engine/types';
import { errorText } from './corosync-session';

export const HISTORY_FILE = 'history.jsonl';
export const DEFAULT_HISTORY_MAX = 10_000;

export interface DecisionEntry {
  kind: 'decision';
  /** ISO time (the daemon's clock). */
  time: string;
  /** Number of the decision in this daemon run (steps refer to it). */
  seq: number;
  /** The daemon run (its start time), so that seqs of two runs are told apart. */
  run: string;
  trigger: string;
  quorate: boolean;
  members: number[];
  role: string;
  previousRole: string;
  master: number | null;
  maintenance: boolean;
  explanation: string;
  effects: string[];
}

export interface StepEntry {
  kind: 'step';
  time: string;
  seq: number | null;
  run: string;
  effect: string;
  outcome: string;
  durationMs: number;
  attempts: number;
  error?: string;
}

export type HistoryEntry = DecisionEntry | StepEntry;

export class History {
  private readonly path: string;
  private seq = 0;
  private lines = 0;
  private readonly decisionOf = new WeakMap<Effect, number>();
  private chain: Promise<void> = Promise.resolve();
  /** Lines waiting for the queued append (see write). */
  private pending: string[] = [];

  constructor(
    stateDir: string,
    private readonly run: string,
    private readonly now: () => number,
    private readonly onError: (err: unknown) => void,
    private readonly max = DEFAULT_HISTORY_MAX,
  ) {
    this.path = join(stateDir, HISTORY_FILE);
  }

  /** Counts what the file holds (trimming it if over the bound). */
  async open(): Promise<void> {
    const entries = await readHistory(this.path);
    this.lines = entries.length;
    if (this.lines > this.max) await this.rewrite(entries.slice(-this.max));
  }

  decision(decision: Decision, event: EngineEvent, before: EngineState): void {
    const s = decision.state;
    this.seq += 1;
    for (const e of decision.effects) this.decisionOf.set(e, this.seq);
    this.write({
      kind: 'decision',
      time: new Date(this.now()).toISOString(),
      seq: this.seq,
      run: this.run,
      trigger: event.type,
      quorate: s.quorum?.quorate ?? false,
      members: [...(s.quorum?.members ?? [])],
      role: s.role,
      previousRole: before.role,
      master: s.role === 'master' ? s.localNodeId : s.masterId,
      maintenance: s.config?.maintenance === true,
      explanation: decision.explanation,
      effects: decision.effects.map((e) => e.type),
    });
  }

  step(r: { effect: Effect; outcome: string; durationMs: number; attempts: number; error?: unknown }): void {
    const entry: StepEntry = {
      kind: 'step',
      time: new Date(this.now()).toISOString(),
      seq: this.decisionOf.get(r.effect) ?? null,
      run: this.run,
      effect: r.effect.type,
      outcome: r.outcome,
      durationMs: Math.round(r.durationMs * 10) / 10,
      attempts: r.attempts,
    };
    if (r.error !== undefined) entry.error = errorText(r.error);
    this.write(entry);
  }

  /** Resolves once every entry so far is written. */
  flushed(): Promise<void> {
    return this.chain;
  }

  private write(entry: HistoryEntry): void {
    this.pending.push(`${JSON.stringify(entry)}\n`);
    // One append per burst: the lines written while an append is queued go with it. A membership
    // change in a 16-node cluster brings each listener ~50 decisions at once, and an append per
    // line was an open, write and close each on libuv's pool while the new master needed the CPUs.
    if (this.pending.length > 1) return;
    this.chain = this.chain
      .then(async () => {
        const lines = this.pending;
        this.pending = [];
        await appendFile(this.path, lines.join(''), { mode: 0o600 });
        this.lines += lines.length;
        if (this.lines > this.max + Math.ceil(this.max / 10)) await this.rewrite((await readHistory(this.path)).slice(-this.max));
      })
      .catch((err: unknown) => this.onError(err));
  }

  private async rewrite(entries: HistoryEntry[]): Promise<void> {
    const tmp = `${this.path}.tmp`;
    await writeFile(tmp, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), { mode: 0o600 });
    await rename(tmp, this.path);
    this.lines = entries.length;
  }
}

/** The entries of a history file, oldest first; unparsable lines (a torn append) are skipped. A missing file is empty. */
export async function readHistory(path: string): Promise<HistoryEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const out: HistoryEntry[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    try {
      const e = JSON.parse(line) as HistoryEntry;
      if (e !== null && typeof e === 'object' && (e.kind === 'decision' || e.kind === 'step') && typeof e.time === 'string') out.push(e);
    } catch {
      // a torn last line
    }
  }
  return out;
}
