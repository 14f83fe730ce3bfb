// What a process costs, read from /proc: CPU time, context switches over all its threads
// (every voluntary switch is the thread going to sleep, i.e. one wake-up when it resumes),
// resident memory and open file descriptors.
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcUsage {
  /** utime + stime, ms (from clock ticks; USER_HZ is 100 on Linux). */
  cpuMs: number;
  /** Sum over all threads. */
  voluntarySwitches: number;
  /** Of the main thread alone (for Node: the event loop). */
  mainVoluntarySwitches: number;
  nonvoluntarySwitches: number;
  threads: number;
  rssKiB: number;
  fds: number;
}

const USER_HZ = 100;

function statusField(text: string, name: string, file: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`${file}: no ${name} line`);
  return Number(m[1]);
}

export function procUsage(pid: number): ProcUsage {
  const statFile = `/proc/${pid}/stat`;
  const stat = readFileSync(statFile, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  let voluntary = 0;
  let nonvoluntary = 0;
  let mainVoluntary = 0;
  const tasks = readdirSync(`/proc/${pid}/task`);
  for (const tid of tasks) {
    const file = `/proc/${pid}/task/${tid}/status`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue; // the thread just ended
    }
    const v = statusField(text, 'voluntary_ctxt_switches', file);
    voluntary += v;
    if (tid === String(pid)) mainVoluntary = v;
    nonvoluntary += statusField(text, 'nonvoluntary_ctxt_switches', file);
  }
  const statusFile = `/proc/${pid}/status`;
  return {
    cpuMs: (ticks * 1000) / USER_HZ,
    voluntarySwitches: voluntary,
    mainVoluntarySwitches: mainVoluntary,
    nonvoluntarySwitches: nonvoluntary,
    threads: tasks.length,
    rssKiB: statusField(readFileSync(statusFile, 'utf8'), 'VmRSS', statusFile),
    fds: readdirSync(`/proc/${pid}/fd`).length,
  };
}
