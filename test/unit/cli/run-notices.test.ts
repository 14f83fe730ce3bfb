// `corolistener run` without corosync (issue 17): one line on stderr says so, not silence, and
// not a line per retry; one more when corosync is back.
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RunNotices } from '../../../src/cli/run-notices';

const MAIN = resolve(__dirname, '../../../dist/cli/main.js');

describe('RunNotices', () => {
  it('says once that corosync is unreachable, however often the daemon retries, and once that it is back', () => {
    const lines: string[] = [];
    const n = new RunNotices((l) => lines.push(l), '/var/log/cl.log');
    for (let i = 0; i < 5; i++) n.onLine({ event: 'corosync-connect', error: 'cmap_initialize failed: CS_ERR_LIBRARY (2)' });
    n.onLine({ event: 'corosync-connected' });
    n.onLine({ event: 'decision' });
    n.onLine({ event: 'corosync-disconnect', error: 'dispatch: CS_ERR_LIBRARY' });
    n.onLine({ event: 'corosync-connect', error: 'x' });
    expect(lines).toEqual([
      'corolistener: warning: cannot connect to corosync (cmap_initialize failed: CS_ERR_LIBRARY (2)); running without it (as without quorum: no master duties, VMs suspended) and retrying; details in /var/log/cl.log',
      'corolistener: connected to corosync',
      'corolistener: warning: corosync went away (dispatch: CS_ERR_LIBRARY); running without it (as without quorum: no master duties, VMs suspended) and retrying; details in /var/log/cl.log',
    ]);
  });

  it('says once that self-fencing is off, and that a clean stop disarmed the watchdog', () => {
    const lines: string[] = [];
    const n = new RunNotices((l) => lines.push(l), '/l');
    n.onLine({ event: 'fencing-off' });
    n.onLine({ event: 'fencing-disarmed' });
    expect(lines).toEqual([
      'corolistener: warning: self-fencing is off (no WatchdogDevice in vmmgr.conf)',
      'corolistener: warning: watchdog disarmed: this node is no longer protected by self-fencing',
    ]);
  });

  it('says nothing when the daemon connects at once', () => {
    const lines: string[] = [];
    const n = new RunNotices((l) => lines.push(l), '/l');
    n.onLine({ event: 'start' });
    n.onLine({ event: 'corosync-connected' });
    expect(lines).toEqual([]);
  });
});

describe('corolistener run (the built CLI) where no corosync runs', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('prints one line on stderr saying it runs without corosync, keeps retrying in its log, stops on SIGTERM with exit 0', async () => {
    if (!existsSync(MAIN)) throw new Error(`${MAIN} missing: run npm run build first`);
    dir = mkdtempSync(join(tmpdir(), 'corolistener-run-'));
    const d = dir;
    copyFileSync(resolve(__dirname, '../config/corpus/crlf.conf'), join(d, 'corosync.conf'));
    const args = [
      'run',
      '--corosync-conf',
      join(d, 'corosync.conf'),
      '--vmmgr-conf',
      join(d, 'vmmgr.conf'),
      '--log',
      join(d, 'cl.log'),
      '--state-dir',
      join(d, 'state'),
      '--socket',
      join(d, 'cl.sock'),
      '--lock-dir',
      d,
      '--key',
      join(d, 'authkey'),
    ];
    // A network namespace of its own when we may (root): no corosync there for sure.
    const argv = process.getuid?.() === 0 ? ['unshare', '-n', process.execPath, MAIN, ...args] : [process.execPath, MAIN, ...args];
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const attempts = () =>
      existsSync(join(d, 'cl.log'))
        ? readFileSync(join(d, 'cl.log'), 'utf8')
            .split('\n')
            .filter((l) => l.includes('"event":"corosync-connect"')).length
        : 0;
    // Two connection attempts in the log: the daemon retried, and still one line on the terminal.
    for (let i = 0; i < 1200 && attempts() < 2; i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(attempts()).toBeGreaterThanOrEqual(2);
    // No WatchdogDevice in its vmmgr.conf: self-fencing is off, said once at start (issue 15).
    expect(stderr).toMatch(
      new RegExp(
        `^corolistener: warning: self-fencing is off \\(no WatchdogDevice in vmmgr.conf\\)\\ncorolistener: warning: cannot connect to corosync \\(.*\\); running without it .* details in ${join(d, 'cl.log').replace(/[/.]/g, '\\$&')}\\n$`,
      ),
    );
  });
});
