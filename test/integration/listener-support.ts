// Helpers for integration tests of the daemon: listeners (`corolistener run`, the built CLI)
// on every node of a sandbox cluster, started in beforeAll and killed in afterAll; bounded
// polling; the facts a test asserts on (who holds the cluster IP, the lock files, the fake
// VMmanager's calls) read from outside the daemons.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import {
  AddressMonitor,
  cliMainScript,
  DEFAULT_CLOUD_IP,
  holdersOf,
  recorderScript,
  startListeners,
  type ListenerOptions,
  type SandboxCluster,
  type SandboxListener,
  type VmmgrCall,
  type VmmgrCommandName,
} from '../../src/sandbox';

/** `ip monitor` times of the cluster IP on a node (src/sandbox): they only refine polled times. */
export { AddressMonitor };
export const CLUSTER_IP = DEFAULT_CLOUD_IP;
export const SERVICE_LOCK = '/tmp/.lock.vmmgr.service';
export const RELOCATED_LOCK = '/tmp/.lock.vmmgr.relocated';

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Listeners on every node, by node name: started once the cluster exists, killed at the end. */
export function useListeners(cluster: () => SandboxCluster, options: ListenerOptions = {}): () => Map<string, SandboxListener> {
  let listeners: SandboxListener[] = [];
  beforeAll(async () => {
    for (const f of [cliMainScript(), recorderScript()]) {
      if (!fs.existsSync(f)) throw new Error(`${f} missing: run npm run build first`);
    }
    listeners = await startListeners(cluster(), undefined, options);
  });
  afterAll(async () => {
    // The cluster's teardown would kill them too; this keeps their end out of its way.
    await Promise.all(listeners.map((l) => l.kill().catch(() => undefined)));
  });
  return () => new Map(listeners.map((l) => [l.node.name, l]));
}

/** Every listener's output and log tail: what a failing assertion needs to be understood. */
export function diagnostics(listeners: Map<string, SandboxListener>): string {
  return [...listeners.values()].map((l) => `=== ${l.node.name} (pid ${l.pid ?? 'none'})\n${l.diagnostics(12)}`).join('\n');
}

/**
 * Poll `probe` every `intervalMs` until it returns something other than undefined/false;
 * rejects after `timeoutMs` with `what`, the last value seen and `diag()`.
 */
export async function waitUntil<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; last?: () => unknown; diag?: () => string } = {},
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const last = opts.last ? `\nlast: ${JSON.stringify(opts.last())}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last}\n${opts.diag?.() ?? ''}`);
    }
    await delay(opts.intervalMs ?? 100);
  }
}

export function lockExists(cluster: SandboxCluster, node: string, lock: string): boolean {
  return fs.existsSync(cluster.hostPath(node, lock));
}

/** Nodes holding `lock` in their /tmp. */
export function lockHolders(cluster: SandboxCluster, lock: string = SERVICE_LOCK): string[] {
  return cluster.nodes.filter((n) => lockExists(cluster, n.name, lock)).map((n) => n.name);
}

export function callsNamed(l: SandboxListener, name: VmmgrCommandName, sinceMs = 0): VmmgrCall[] {
  return l.calls().filter((c) => c.name === name && c.ms >= sinceMs);
}

/** Every call on every node, for "nothing else ran" assertions: node -> [name...]. */
export function callSummary(listeners: Map<string, SandboxListener>, sinceMs = 0): Record<string, string[]> {
  return Object.fromEntries(
    [...listeners].map(([n, l]) => [
      n,
      l
        .calls()
        .filter((c) => c.ms >= sinceMs)
        .map((c) => c.name),
    ]),
  );
}

export async function roles(listeners: Map<string, SandboxListener>): Promise<Record<string, string>> {
  const entries = await Promise.all([...listeners].map(async ([n, l]) => [n, (await l.status().catch(() => undefined))?.daemon.role ?? 'no answer'] as const));
  return Object.fromEntries(entries);
}

/**
 * The settled picture with `master` as master: it holds the cluster IP and the service lock,
 * nobody else does, every listener reports its role, and the master's start command ran.
 */
export async function waitMaster(cluster: SandboxCluster, listeners: Map<string, SandboxListener>, master: string, timeoutMs = 30_000): Promise<void> {
  let last: unknown;
  await waitUntil(
    `${master} as master (cluster IP, service lock, ServiceStartCommand; the others slaves)`,
    async () => {
      const r = await roles(listeners);
      const ip = await holdersOf(cluster, CLUSTER_IP);
      const locks = lockHolders(cluster);
      const started = callsNamed(listeners.get(master)!, 'ServiceStartCommand').length;
      last = { roles: r, ip, locks, started };
      const rolesOk = [...listeners.keys()].every((n) => r[n] === (n === master ? 'master' : 'slave'));
      return rolesOk && ip.join() === master && locks.join() === master && started > 0;
    },
    { timeoutMs, last: () => last, diag: () => diagnostics(listeners) },
  );
}

/**
 * Observe for `ms` that `check` keeps returning nothing (no violation): the way to assert that
 * something does NOT happen (a second start, a failover). Resolves to the first violation.
 */
export async function violationWithin(ms: number, check: () => Promise<string | undefined> | string | undefined): Promise<string | undefined> {
  const end = Date.now() + ms;
  do {
    const v = await check();
    if (v !== undefined) return v;
    await delay(100);
  } while (Date.now() < end);
  return undefined;
}

/**
 * Wait until no node's fake VMmanager recorded a command for `quietMs`: what an earlier step
 * set in motion (e.g. a returning node resuming its VMs once the failure records arrive) is over.
 */
export async function waitCommandsQuiet(listeners: Map<string, SandboxListener>, quietMs = 2_000, timeoutMs = 30_000): Promise<void> {
  const count = () => [...listeners.values()].reduce((n, l) => n + l.calls().length, 0);
  await waitUntil(
    `no command recorded on any node for ${quietMs} ms`,
    async () => {
      const before = count();
      return (await violationWithin(quietMs, () => (count() !== before ? 'a command ran' : undefined))) === undefined;
    },
    { timeoutMs, intervalMs: 0, last: () => callSummary(listeners), diag: () => diagnostics(listeners) },
  );
}

/** When a file in a node's private directory was created / removed (inotify on its host path). */
export class FileMonitor {
  created: number | undefined;
  removed: number | undefined;
  private readonly watcher: fs.FSWatcher;

  constructor(hostFile: string) {
    this.watcher = fs.watch(path.dirname(hostFile), (_event, name) => {
      if (name !== path.basename(hostFile)) return;
      const now = Date.now();
      if (fs.existsSync(hostFile)) this.created ??= now;
      else this.removed ??= now;
    });
  }

  stop(): void {
    this.watcher.close();
  }
}
