// scripts/apt-lock-wait (issue 17): scripts/demo, scripts/test and .ci/run wait, bounded, for
// another apt/dpkg run to let go of the lock, saying in one line what they wait for or why they
// stop, instead of apt's raw "Could not get lock" and exit 100. The lock here is a file of the
// test's own, held with flock(1), so that no real apt run on this machine is disturbed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');
const SCRIPT = path.join(ROOT, 'scripts/apt-lock-wait');

let dir: string;
let lock: string;
let holder: ChildProcess | undefined;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'corolistener-aptlock-'));
  lock = path.join(dir, 'lock-frontend');
  fs.writeFileSync(lock, '');
});

afterEach(() => {
  holder?.kill('SIGKILL');
  holder = undefined;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Holds `lock` with flock(1) for `seconds`; resolves once it is held. */
async function hold(seconds: number): Promise<number> {
  const marker = path.join(dir, 'held');
  holder = spawn('flock', [lock, 'sh', '-c', `touch ${marker}; sleep ${seconds}`], { stdio: 'ignore' });
  for (let i = 0; i < 6000 && !fs.existsSync(marker); i++) await new Promise((r) => setTimeout(r, 10));
  if (!fs.existsSync(marker)) throw new Error('flock did not take the lock');
  return holder.pid!;
}

function waitScript(env: Record<string, string>): Promise<{ code: number | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn('bash', [SCRIPT, 'scripts/demo'], { env: { ...process.env, COROLISTENER_APT_LOCKS: lock, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => resolve({ code, stderr, ms: Date.now() - t0 }));
  });
}

describe('scripts/apt-lock-wait', () => {
  it('says nothing and exits 0 when the lock is free', async () => {
    expect(await waitScript({ COROLISTENER_APT_LOCK_WAIT: '5' })).toMatchObject({ code: 0, stderr: '' });
  });

  it('with the lock held past the bound: one line saying what it waits for, one saying why it stops, exit 1', async () => {
    const pid = await hold(600);
    const r = await waitScript({ COROLISTENER_APT_LOCK_WAIT: '2' });
    expect(r.code).toBe(1);
    const held = `${lock} (held by pid ${pid}: flock ${lock} sh -c`;
    const lines = r.stderr.split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toContain(`scripts/demo: waiting up to 2 s for the apt/dpkg lock ${held}`);
    expect(lines[1]).toContain(`scripts/demo: stopping: the apt/dpkg lock ${held}`);
    expect(lines[1]).toMatch(/is still held after 2 s; run again when that apt\/dpkg run is done$/);
    expect(lines[2]).toBe('');
    expect(r.ms).toBeGreaterThanOrEqual(2000);
  });

  it('with the lock let go during the wait: goes on, exit 0', async () => {
    await hold(2);
    const r = await waitScript({ COROLISTENER_APT_LOCK_WAIT: '240' });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^scripts\/demo: waiting up to 240 s for the apt\/dpkg lock .*\nscripts\/demo: the apt\/dpkg lock is free after \d+ s\n$/);
  });

  it('rejects a wait that is not a number', async () => {
    expect(await waitScript({ COROLISTENER_APT_LOCK_WAIT: '5m' })).toMatchObject({ code: 2, stderr: 'scripts/demo: COROLISTENER_APT_LOCK_WAIT must be a number of seconds, got "5m"\n' });
  });

  it('is run before every apt-get in scripts/ensure-system-packages (scripts/demo, scripts/test) and .ci/run', () => {
    for (const file of ['scripts/ensure-system-packages', '.ci/run']) {
      const lines = fs
        .readFileSync(path.join(ROOT, file), 'utf8')
        .split('\n')
        .filter((l) => !/^\s*#/.test(l));
      const aptAt = lines.flatMap((l, i) => (/\bapt-get\b/.test(l) && !/^\s*echo/.test(l) ? [i] : []));
      expect(aptAt.length, file).toBeGreaterThanOrEqual(2);
      for (const i of aptAt) {
        const before = lines
          .slice(0, i)
          .reverse()
          .find((l) => /apt-lock-wait|\bapt-get\b/.test(l) && !/^\s*echo/.test(l));
        expect(before, `${file}: line ${i + 1} "${lines[i]!.trim()}" runs apt-get without waiting for the lock first`).toMatch(/apt-lock-wait/);
      }
    }
    for (const file of ['scripts/demo', 'scripts/test']) expect(fs.readFileSync(path.join(ROOT, file), 'utf8')).toMatch(/^bash scripts\/ensure-system-packages /m);
  });

  it('bash -n: the scripts parse', () => {
    for (const f of ['scripts/apt-lock-wait', 'scripts/ensure-system-packages', 'scripts/npm-deps', 'scripts/test', 'scripts/demo', '.ci/run']) {
      expect(spawnSync('bash', ['-n', path.join(ROOT, f)]).status, f).toBe(0);
    }
  });

  it('scripts/test announces its four phases, each with how long it takes, before running it', () => {
    const text = fs.readFileSync(path.join(ROOT, 'scripts/test'), 'utf8');
    const phases = [...text.matchAll(/^\s*phase (\d) '([^']+)'$/gm)];
    expect(phases.map((m) => m[1])).toEqual(['1', '2', '3', '4']);
    for (const [, , what] of phases) expect(what).toMatch(/\d+(-\d+)? (s|min)\b/);
    // Each announcement comes before the step it announces.
    for (const [n, step] of [
      ['1', 'ensure-system-packages'],
      ['2', 'npm-deps'],
      ['3', 'npm run --silent build'],
      ['4', 'npx vitest run'],
    ] as const) {
      expect(text.indexOf(`phase ${n} `), step).toBeLessThan(text.indexOf(step));
      expect(text.indexOf(`phase ${n} `)).toBeGreaterThan(n === '1' ? 0 : text.indexOf(`phase ${Number(n) - 1} `));
    }
  });
});
