// What the idle and soak benchmarks share: a 3-node sandbox cluster with a listener on every
// node, waiting for the roles to settle, and reading a listener's /proc.
import { readdirSync, readFileSync } from 'node:fs';
import { createCluster, startListeners, type ClusterOptions, type ListenerOptions, type SandboxCluster, type SandboxListener } from '../../dist/sandbox';
import type { PartContext } from '../lib/part';

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Waits until exactly one listener says master and the others slave, then `quietMs` more. */
export async function settle(listeners: readonly SandboxListener[], quietMs: number, timeoutMs = 60_000): Promise<SandboxListener> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const roles = await Promise.all(listeners.map(async (l) => (await l.status())?.daemon.role));
    const masters = listeners.filter((_, i) => roles[i] === 'master');
    if (masters.length === 1 && roles.filter((r) => r === 'slave').length === listeners.length - 1) {
      await delay(quietMs);
      return masters[0]!;
    }
    if (Date.now() > deadline) throw new Error(`listeners did not settle within ${timeoutMs} ms (roles: ${roles.join(', ')})`);
    await delay(200);
  }
}

/** A 3-node cluster with `cluster` options, prepared by `prepare`, a listener on every node; torn down after `use`. */
export async function withListeners<T>(
  ctx: PartContext,
  options: { cluster?: Omit<ClusterOptions, 'nodes'>; listener?: ListenerOptions; prepare?: (c: SandboxCluster) => Promise<void> },
  use: (c: SandboxCluster, l: SandboxListener[]) => Promise<T>,
): Promise<T> {
  const cluster = await createCluster({ ...options.cluster, nodes: 3 });
  try {
    await options.prepare?.(cluster);
    const listeners = await startListeners(cluster, undefined, options.listener);
    ctx.log('listeners started');
    return await use(cluster, listeners);
  } finally {
    await cluster.destroy();
  }
}

export const pidOf = (l: SandboxListener): number => {
  if (l.pid === null) throw new Error(`the listener on ${l.node.name} is not running:\n${l.diagnostics()}`);
  return l.pid;
};

export const mib = (kib: number): string => (kib / 1024).toFixed(1);

/** Pids of the processes `pid` started that are still running (all its threads' children). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      out.push(...readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number));
    } catch {
      // the thread just ended
    }
  }
  return out;
}

/** The link monitor's `ip monitor` runs for the daemon's whole life: not a command of a change. */
function isCommand(pid: number): boolean {
  try {
    return !/^ip\0(-\S+\0)*monitor\0/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return false; // already gone
  }
}

/**
 * Waits until none of the listeners runs a command (the last change's: a master's
 * NodeFailedCommand, its background gratuitous ARPs): their pipes are open fds of the listener
 * while they run, which is not what a leak check counts.
 */
export async function commandsDone(listeners: readonly SandboxListener[], timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const busy = listeners.filter((l) => childrenOf(pidOf(l)).some(isCommand));
    if (busy.length === 0) return;
    if (Date.now() > deadline) throw new Error(`listeners ${busy.map((l) => l.node.name).join(', ')} still run commands after ${timeoutMs} ms`);
    await delay(100);
  }
}
