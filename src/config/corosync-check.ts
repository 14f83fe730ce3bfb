// Runs corosync's own configuration check, `corosync -t -c FILE`, on a file.
// Measured on corosync 3.1.7 (strace): -t reads FILE, creates and removes its libqb blackbox
// files /dev/shm/qb-corosync-<pid>-blackbox-{header,data} (named by pid, so parallel runs do
// not collide), chdirs to /var/lib/corosync and reads the interface addresses and
// /etc/hosts; it writes no pid file and touches nothing in /run. It needs no root. It refuses
// a file in which no node is this host ("No valid name found for local host"), so it can only
// judge files meant for this machine.

import { execFile } from 'node:child_process';
import { access, constants, unlink } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

export interface CorosyncCheckResult {
  readonly ok: boolean;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** corosync's messages without timestamps and the "exiting" line, one per line. */
  readonly message: string;
}

/** Absolute path of the corosync binary (PATH, then /usr/sbin and /sbin), or undefined. */
export async function findCorosync(binary = 'corosync'): Promise<string | undefined> {
  if (binary.includes('/')) return (await isExecutable(binary)) ? binary : undefined;
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, binary);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Strips "Nov 22 02:43:23.462 error   [MAIN  ] " prefixes and the exit notice. */
function cleanOutput(output: string): string {
  return output
    .split('\n')
    .map((l) => l.replace(/^[A-Z][a-z]{2} +\d+ [\d:.]+ +\w+ +\[[^\]]*\] /, '').trim())
    .filter((l) => l !== '' && !/Corosync Cluster Engine exiting/.test(l))
    .join('\n');
}

export function corosyncCheckFile(binary: string, file: string, timeoutMs = 15_000): Promise<CorosyncCheckResult> {
  return new Promise((resolve) => {
    const child = execFile(binary, ['-t', '-c', file], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (error, stdout, stderr) => {
      const exit = error as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
      const exitCode = exit === null ? 0 : typeof exit.code === 'number' ? exit.code : null;
      const message = cleanOutput(`${stderr}\n${stdout}`) || (exit && typeof exit.code === 'string' ? exit.message : '');
      const signal = exit?.signal ?? null;
      // corosync removes its blackbox files on exit and on abort, but not when SIGKILLed (timeout).
      const cleanup = signal === 'SIGKILL' && child.pid !== undefined ? removeBlackbox(child.pid) : Promise.resolve();
      void cleanup.then(() => resolve({ ok: exit === null, exitCode, signal, message }));
    });
  });
}

async function removeBlackbox(pid: number): Promise<void> {
  await Promise.all(['header', 'data'].map((part) => unlink(`/dev/shm/qb-corosync-${pid}-blackbox-${part}`).catch(() => undefined)));
}
