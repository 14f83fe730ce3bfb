// Who a process is, robustly: a pid alone is recycled quickly (pid_max is 32768 on many
// machines, and a busy node spawns many short commands), so a process is identified by its
// pid and its start time (field 22 of /proc/PID/stat). Synchronous on purpose: used from
// 'exit' handlers and before writes. Linux only, as corosync is.
import { readFileSync } from 'node:fs';

function statFields(pid: number): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after its last ')'.
    const close = stat.lastIndexOf(')');
    return stat.slice(close + 2).split(' ');
  } catch {
    return null;
  }
}

/** True while the process exists and is not a zombie. */
export function isAlive(pid: number): boolean {
  const f = statFields(pid);
  return f !== null && f[0] !== 'Z' && f[0] !== 'X';
}

/** Start time in clock ticks since boot (field 22 of /proc/PID/stat), or null if gone. */
export function startTimeOf(pid: number): string | null {
  const f = statFields(pid);
  return f ? (f[19] ?? null) : null;
}

/** `PID-STARTTIME` of this process: safe to embed in file names. */
export function selfToken(): string {
  return `${process.pid}-${startTimeOf(process.pid) ?? '0'}`;
}

/** Whether the process named by a token from `selfToken()` is still running (not a recycled pid). */
export function isTokenAlive(token: string): boolean {
  const m = /^(\d+)-(\d+)$/.exec(token);
  if (!m) return false;
  const pid = Number(m[1]);
  return isAlive(pid) && startTimeOf(pid) === m[2];
}
