// "Under load" as scripts/test-under-load makes it: one busy loop per core at normal priority,
// beside whatever else the machine runs. Callers stop them in a finally (underLoad does).
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';

export interface CpuHogs {
  readonly count: number;
  stop(): Promise<void>;
}

export function startCpuHogs(count = cpus().length): CpuHogs {
  const hogs: ChildProcess[] = [];
  for (let i = 0; i < count; i++) hogs.push(spawn('bash', ['-c', 'while :; do :; done'], { stdio: 'ignore' }));
  return {
    count,
    async stop() {
      await Promise.all(
        hogs.map(
          (h) =>
            new Promise<void>((resolve) => {
              if (h.exitCode !== null || h.signalCode !== null) return resolve();
              h.once('exit', () => resolve());
              h.kill('SIGKILL');
            }),
        ),
      );
    },
  };
}

/** Runs `fn` with the hogs running, and stops them whatever happens. */
export async function underLoad<T>(fn: () => Promise<T>): Promise<T> {
  const hogs = startCpuHogs();
  try {
    return await fn();
  } finally {
    await hogs.stop();
  }
}
