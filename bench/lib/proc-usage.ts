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

/** Where a process's resident memory is, from /proc/PID/smaps (KiB). */
export interface RssBreakdown {
  /** libqb's IPC ring buffers, shared with corosync (/dev/shm/qb-*): resident once touched. */
  ipcKiB: number;
  /** Their mapped size: what ipcKiB can grow to. */
  ipcMappedKiB: number;
  /** Anonymous memory: V8's heap, malloc arenas, stacks. */
  anonKiB: number;
  /** Other file-backed mappings: the node binary, libraries, the addon. */
  fileKiB: number;
}

const SMAPS_HEADER = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/;

/** Sums /proc/PID/smaps's Rss lines by kind of mapping. */
export function parseSmaps(text: string): RssBreakdown {
  const out: RssBreakdown = { ipcKiB: 0, ipcMappedKiB: 0, anonKiB: 0, fileKiB: 0 };
  let kind: 'ipcKiB' | 'anonKiB' | 'fileKiB' = 'anonKiB';
  for (const line of text.split('\n')) {
    const header = SMAPS_HEADER.exec(line);
    if (header) {
      const name = header[1]!;
      kind = /\/qb-[^/]*$/.test(name.replace(/ \(deleted\)$/, '')) ? 'ipcKiB' : name.startsWith('/') ? 'fileKiB' : 'anonKiB';
      continue;
    }
    const size = /^Size:\s+(\d+) kB/.exec(line);
    if (size && kind === 'ipcKiB') out.ipcMappedKiB += Number(size[1]);
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind] += Number(rss[1]);
  }
  return out;
}

export function rssBreakdown(pid: number): RssBreakdown {
  return parseSmaps(readFileSync(`/proc/${pid}/smaps`, 'utf8'));
}

/** CPU and run-queue time from the scheduler's own accounting (/proc/PID/task/TID/schedstat, ns precision; ms here). */
export interface SchedUsage {
  /** On a CPU, all threads. */
  cpuMs: number;
  /** Runnable but waiting for a CPU, main thread (for Node: the event loop). */
  mainWaitMs: number;
  /** On a CPU, main thread alone. */
  mainCpuMs: number;
}

/** Sums /proc/PID/task/TID/schedstat ("run ns, wait ns, timeslices") over the threads of `pid`. */
export function schedUsage(pid: number): SchedUsage {
  const out: SchedUsage = { cpuMs: 0, mainWaitMs: 0, mainCpuMs: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch {
      continue; // the thread just ended
    }
    const [run, wait] = text.trim().split(' ').map(Number) as [number, number];
    out.cpuMs += run / 1e6;
    if (tid === String(pid)) {
      out.mainCpuMs = run / 1e6;
      out.mainWaitMs = wait / 1e6;
    }
  }
  return out;
}
