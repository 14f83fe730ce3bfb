// `strace -c -f -p PID` for a while: how many system calls a process (every thread) made, by name.
import { spawn } from 'node:child_process';

export interface SyscallCounts {
  total: number;
  bySyscall: Map<string, number>;
}

/** Parses strace -c's summary table ("% time seconds usecs/call calls [errors] syscall" rows, then "total"). */
export function parseStraceSummary(text: string): SyscallCounts {
  const bySyscall = new Map<string, number>();
  let total: number | null = null;
  for (const line of text.split('\n')) {
    const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(?:(\d+)\s+)?(\S+)\s*$/.exec(line);
    if (!m) continue;
    if (m[3] === 'total') total = Number(m[1]);
    else bySyscall.set(m[3]!, Number(m[1]));
  }
  if (total === null) {
    // No system call at all: strace prints only the header and an empty total line, or nothing.
    if (bySyscall.size === 0 && /total|^\s*$/m.test(text)) return { total: 0, bySyscall };
    throw new Error(`strace -c: no summary in its output: ${text.slice(0, 300)}`);
  }
  return { total, bySyscall };
}

/** Attaches to every thread of `pid` for `seconds`, then detaches (SIGINT) and returns the counts. */
export function straceCount(pid: number, seconds: number): Promise<SyscallCounts> {
  return new Promise((resolve, reject) => {
    const child = spawn('strace', ['-c', '-f', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGINT'), seconds * 1000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', () => {
      clearTimeout(timer);
      try {
        resolve(
          parseStraceSummary(
            err
              .split('\n')
              .filter((l) => !/^strace: Process \d+ (attached|detached)/.test(l))
              .join('\n'),
          ),
        );
      } catch (e) {
        reject(e);
      }
    });
  });
}
