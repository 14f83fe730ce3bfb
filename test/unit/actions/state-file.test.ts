import { fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { transpileSources } from '../../support/transpile';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StateFile, StateFileError } from '../../../src/actions/state-file';

interface State {
  role: string;
  ringSeq: number;
  suspendedVms: string[];
}

function validate(raw: unknown): State {
  const r = raw as State;
  if (typeof r !== 'object' || r === null || typeof r.role !== 'string' || typeof r.ringSeq !== 'number' || !Array.isArray(r.suspendedVms)) {
    throw new Error('expected { role, ringSeq, suspendedVms }');
  }
  return r;
}

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'corolistener-state-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('StateFile', () => {
  it('a missing file loads as undefined; save then load round-trips; no temp files stay', async () => {
    const f = new StateFile<State>(path.join(dir, 'sub', 'state.json'), { validate });
    expect(await f.load()).toBeUndefined();
    const s = { role: 'master', ringSeq: 12, suspendedVms: ['vm1'] };
    await f.save(s);
    expect(await f.load()).toEqual(s);
    await f.save({ ...s, role: 'slave' });
    expect((await f.load())?.role).toBe('slave');
    expect(readdirSync(path.join(dir, 'sub'))).toEqual(['state.json']);
  });

  it('a corrupt file is an error naming the file, never a default', async () => {
    const file = path.join(dir, 'state.json');
    writeFileSync(file, '{"role": "mas');
    const f = new StateFile<State>(file, { validate });
    const err = await f.load().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateFileError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/corrupt/);
  });

  it('a file of the wrong shape is an error naming the file', async () => {
    const file = path.join(dir, 'state.json');
    writeFileSync(file, '{"role": 1}');
    await expect(new StateFile<State>(file, { validate }).load()).rejects.toThrow(`${file}: invalid state: expected { role, ringSeq, suspendedVms }`);
  });

  it('refuses to save an invalid state and leaves the file as it was', async () => {
    const file = path.join(dir, 'state.json');
    const f = new StateFile<State>(file, { validate });
    await f.save({ role: 'slave', ringSeq: 1, suspendedVms: [] });
    const before = readFileSync(file, 'utf8');
    await expect(f.save({ role: 'x' } as State)).rejects.toThrow(StateFileError);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('a writer killed at random moments always leaves the old or the new state, never a torn one', async () => {
    const file = path.join(dir, 'state.json');
    // The child runs our modules (transpiled here) and saves ever larger states in a loop
    // until it is SIGKILLed.
    transpileSources(dir, ['actions/state-file.ts', 'util/atomic-file.ts', 'util/process-identity.ts']);
    const writer = path.join(dir, 'writer.js');
    writeFileSync(
      writer,
      `const { StateFile } = require('./actions/state-file.js');
       const [file, base] = process.argv.slice(2);
       const f = new StateFile(file, { validate: (x) => x });
       (async () => {
         for (let i = 1; ; i++) {
           const n = i % 1000;
           await f.save({ role: 'master', ringSeq: Number(base) + n, suspendedVms: Array.from({ length: n }, (_, k) => 'vm-' + k + '-'.repeat(200)) });
           if (i === 1) process.send('saved');
         }
       })();`,
    );
    const seen = new Set<number>();
    for (let round = 0; round < 8; round++) {
      const child = fork(writer, [file, String(round * 1000)], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'] });
      // Killed at a random moment once it is writing (starting Node takes long on a loaded machine).
      await new Promise((r) => child.once('message', r));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 150)));
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const loaded = await new StateFile<State>(file, { validate }).load();
      if (loaded) {
        // Each state is self-consistent: its VM list length is encoded in ringSeq.
        expect(loaded.suspendedVms.length).toBe(loaded.ringSeq % 1000);
        seen.add(loaded.ringSeq);
      }
    }
    expect(seen.size).toBeGreaterThan(1);
    // The next save by a live process clears temp files the killed writers left behind.
    await new StateFile<State>(file, { validate }).save({ role: 'slave', ringSeq: 1, suspendedVms: [] });
    expect(readdirSync(dir).filter((n) => n.startsWith('.state.json.'))).toEqual([]);
  });

  it('quarantine moves a corrupt file aside for inspection; then load sees no state', async () => {
    const file = path.join(dir, 'state.json');
    writeFileSync(file, 'garbage');
    const f = new StateFile<State>(file, { validate });
    await expect(f.load()).rejects.toThrow(StateFileError);
    const aside = await f.quarantine(new Date('2026-11-22T03:00:00.000Z'));
    expect(aside).toBe(`${file}.corrupt-2026-11-22T03-00-00-000Z`);
    expect(readFileSync(aside!, 'utf8')).toBe('garbage');
    expect(await f.load()).toBeUndefined();
    expect(await f.quarantine()).toBeUndefined();
  });
});
