// The machine a benchmark ran on, as every BENCHMARKS.md section states it: CPU count (what
// `nproc` reports), CPU model, RAM, Node version and kernel.
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';

export function cpuModel(): string {
  try {
    const m = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) return m[1]!.trim();
  } catch {
    // not Linux: fall through to what Node knows
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

/** One line, e.g. "2 CPUs (nproc), AMD EPYC 7B13, 24 GiB RAM, Node v20.20.2, Linux 6.1.0-18-amd64 x64". */
export function machineLine(): string {
  return [
    `${availableParallelism()} CPUs (nproc)`,
    cpuModel(),
    `${Math.round(totalmem() / 2 ** 30)} GiB RAM`,
    `Node ${process.version}`,
    `${process.platform === 'linux' ? 'Linux' : process.platform} ${release()} ${process.arch}`,
  ].join(', ');
}
