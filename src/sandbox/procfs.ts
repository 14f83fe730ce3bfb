// Finding processes through /proc: which processes live in a namespace (what `ip netns pids`
// does), their names, signalling and waiting for them. Liveness and start times (recycled pids)
// are in src/util/process-identity. Synchronous on purpose: teardown runs in 'exit' handlers.
import * as fs from 'node:fs';
import { isAlive } from '../util/process-identity';

export interface NsId {
  dev: number;
  ino: number;
}

/** Identity of a namespace file (/run/netns/X, a bound mount ns file, /proc/PID/ns/...). */
export function nsIdOf(file: string): NsId | null {
  try {
    const st = fs.statSync(file);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return null;
  }
}

function listPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number);
}

/**
 * Pids of the processes whose network or mount namespace is one of `nsFiles`. A namespace file
 * that is not (or no longer) a bind-mounted namespace cannot match: its dev differs from nsfs's.
 */
export function pidsInNamespaces(nsFiles: readonly string[]): number[] {
  const wanted = nsFiles.map(nsIdOf).filter((x): x is NsId => x !== null);
  if (wanted.length === 0) return [];
  const self = process.pid;
  const found: number[] = [];
  for (const pid of listPids()) {
    if (pid === self) continue;
    for (const kind of ['net', 'mnt']) {
      const id = nsIdOf(`/proc/${pid}/ns/${kind}`);
      if (id && wanted.some((w) => w.dev === id.dev && w.ino === id.ino)) {
        found.push(pid);
        break;
      }
    }
  }
  return found;
}

export function commOf(pid: number): string | null {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return null;
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
  }
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));
export function sleepSync(ms: number): void {
  Atomics.wait(sleepCell, 0, 0, ms);
}

/** Wait (blocking) until none of `pids` is alive; returns the ones still alive at the deadline. */
export function waitGoneSync(pids: readonly number[], timeoutMs: number): number[] {
  const deadline = Date.now() + timeoutMs;
  let alive = pids.filter(isAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    sleepSync(10);
    alive = alive.filter(isAlive);
  }
  return alive;
}

/** Wait (polling, without blocking the event loop) until `pid` is gone; false if still alive at the deadline. */
export async function waitExited(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise<void>((r) => setTimeout(r, 20));
  }
  return true;
}

/** Remove libqb's shared-memory files of a corosync process that was killed (SIGKILL leaves them). */
export function removeQbShm(corosyncPid: number): void {
  let entries: string[];
  try {
    entries = fs.readdirSync('/dev/shm');
  } catch {
    return;
  }
  for (const e of entries) {
    if (e.startsWith(`qb-corosync-${corosyncPid}-`) || e.startsWith(`qb-${corosyncPid}-`)) {
      fs.rmSync(`/dev/shm/${e}`, { force: true, recursive: true });
    }
  }
}
