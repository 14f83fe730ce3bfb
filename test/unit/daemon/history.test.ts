import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const appends = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const fsp = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...fsp,
    appendFile: (...args: Parameters<typeof fsp.appendFile>) => {
      appends.count += 1;
      return fsp.appendFile(...args);
    },
  };
});

import { History, HISTORY_FILE, readHistory } from '../../../src/daemon/history';
import { initialState } from '../../../src/engine';
import type { Decision, EngineEvent } from '../../../src/engine/types';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function history(max?: number): { h: History; file: string; errors: unknown[] } {
  const dir = mkdtempSync(join(tmpdir(), 'history-'));
  dirs.push(dir);
  const errors: unknown[] = [];
  return {
    h: new History(
      dir,
      'run-1',
      () => 0,
      (e) => errors.push(e),
      max,
    ),
    file: join(dir, HISTORY_FILE),
    errors,
  };
}

const state = initialState(1);
const event: EngineEvent = { type: 'configVersions', now: 0, versions: {} };
const decision = (explanation: string): Decision => ({ state, effects: [], explanation });

describe('decision history', () => {
  it('writes a burst of decisions with one append, every line in order', async () => {
    const { h, file, errors } = history();
    await h.open();
    appends.count = 0;
    for (let i = 0; i < 50; i++) h.decision(decision(`d${i}`), event, state);
    await h.flushed();
    expect(appends.count).toBe(1);
    for (let i = 50; i < 53; i++) h.decision(decision(`d${i}`), event, state);
    await h.flushed();
    expect(appends.count).toBe(2);
    const entries = await readHistory(file);
    expect(entries.map((e) => (e.kind === 'decision' ? e.explanation : '')).join(',')).toBe(Array.from({ length: 53 }, (_, i) => `d${i}`).join(','));
    expect(entries.map((e) => (e.kind === 'decision' ? e.seq : 0))).toEqual(Array.from({ length: 53 }, (_, i) => i + 1));
    expect(errors).toEqual([]);
  });

  it('stays bounded across bursts: the newest `max` once over max + 10 %', async () => {
    const { h, file } = history(20);
    await h.open();
    for (let burst = 0; burst < 5; burst++) {
      for (let i = 0; i < 7; i++) h.decision(decision(`b${burst}.${i}`), event, state);
      await h.flushed();
    }
    const entries = await readHistory(file);
    expect(entries.length).toBeLessThanOrEqual(22);
    expect(entries.at(-1)).toMatchObject({ explanation: 'b4.6' });
  });
});
