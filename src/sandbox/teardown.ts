// Removing a cluster from the machine, from its state file alone: used by destroy(), by the
// exit/signal handlers of the owning process and by cleanupStale() for clusters whose owner
// died. Synchronous (it must work inside a process 'exit' handler), idempotent, and tolerant of
// a cluster that was only partly created: every step skips what does not exist.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSync } from './command';
import { commOf, pidsInNamespaces, removeQbShm, signal, waitGoneSync } from './procfs';
import { isAlive, startTimeOf } from '../util/process-identity';
import { DEFAULT_STATE_ROOT, clusterIdOfNetns } from './spec';
import { clusterDirs, ownerAlive, readState, releaseName, type ClusterState } from './state';

export interface TeardownResult {
  /** False when another live process is tearing the cluster down right now. */
  done: boolean;
  /** What could not be removed (empty on success). */
  errors: string[];
}

const NETNS_DIR = '/run/netns';
/** A directory without a state file younger than this may be a cluster being created right now. */
const FRESH_DIR_MS = 60_000;

/** Decode the octal escapes (\040 for a space...) of /proc/self/mountinfo paths. */
function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points of this mount namespace at or below `dir`, deepest (most recent) first. */
export function mountsUnder(dir: string): string[] {
  const lines = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n');
  const points = lines
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => p !== undefined)
    .map(unescapeMountPath)
    .filter((p) => p === dir || p.startsWith(dir + '/'));
  return points.reverse();
}

/**
 * Every network namespace of the cluster: the hub, the nodes, and extras made after creation
 * (client namespaces, see ./client), which the state file does not list but whose names carry
 * the cluster id like all the others.
 */
function clusterNetns(state: ClusterState): string[] {
  let extra: string[] = [];
  try {
    extra = fs.readdirSync(NETNS_DIR).filter((n) => clusterIdOfNetns(n) === state.id);
  } catch {
    // no /run/netns at all: nothing extra exists
  }
  return [...new Set([state.hubNetns, ...state.nodes.map((n) => n.netns), ...extra])];
}

/** Kill every process living in the cluster's namespaces and wait until they are gone. */
function killAll(state: ClusterState, errors: string[]): void {
  const nsFiles = [...clusterNetns(state).map((ns) => path.join(NETNS_DIR, ns)), ...state.nodes.map((n) => n.mountNsFile)];
  // A few rounds: a process may fork between the scan and the kill.
  for (let round = 0; round < 3; round++) {
    const pids = pidsInNamespaces(nsFiles);
    if (pids.length === 0) return;
    const corosyncs = pids.filter((p) => commOf(p) === 'corosync');
    for (const pid of pids) signal(pid, 'SIGKILL');
    const stuck = waitGoneSync(pids, 5_000);
    corosyncs.filter((p) => !stuck.includes(p)).forEach(removeQbShm);
    if (round === 2 && stuck.length > 0) errors.push(`processes still alive after SIGKILL: ${stuck.join(' ')}`);
  }
}

function deleteNetns(name: string, errors: string[]): void {
  if (!fs.existsSync(path.join(NETNS_DIR, name))) return;
  const r = runSync(['ip', 'netns', 'delete', name]);
  if (r.code !== 0) errors.push(`ip netns delete ${name}: ${r.stderr.trim()}`);
}

function unmountAll(dir: string, errors: string[]): void {
  for (const point of mountsUnder(dir)) {
    const r = runSync(['umount', point]);
    if (r.code !== 0) {
      // Busy is not expected (every process is gone); detach lazily rather than leave it.
      const lazy = runSync(['umount', '--lazy', point]);
      if (lazy.code !== 0) errors.push(`umount ${point}: ${r.stderr.trim()}`);
    }
  }
}

/** Claim the teardown so that two processes (cleanupStale in parallel test files) don't race. */
function claim(dir: string): boolean {
  const file = path.join(dir, 'destroying');
  const me = `${process.pid} ${startTimeOf(process.pid)}`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(file, me, { flag: 'wx' });
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return false; // the directory is gone: someone finished
      if (code !== 'EEXIST') throw e;
      const [pid, start] = fs.readFileSync(file, 'utf8').split(' ');
      if (Number(pid) === process.pid) return true;
      if (isAlive(Number(pid)) && startTimeOf(Number(pid)) === start) return false;
      fs.rmSync(file, { force: true }); // its claimant died: take over
    }
  }
  return false;
}

/** Tear down the cluster whose state directory is `dir`. Safe to call repeatedly. */
export function teardownSync(dir: string): TeardownResult {
  const errors: string[] = [];
  let state: ClusterState | null;
  try {
    state = readState(dir);
  } catch (e) {
    return { done: false, errors: [String(e)] };
  }
  if (state === null) {
    // Nothing is created before the state file is written, so only the directory can exist.
    fs.rmSync(dir, { recursive: true, force: true });
    return { done: true, errors };
  }
  if (!claim(dir)) return { done: false, errors };
  const netns = clusterNetns(state);
  killAll(state, errors);
  // Nodes and extras before the hub, as they were created after it.
  for (const ns of netns.filter((n) => n !== state.hubNetns)) deleteNetns(ns, errors);
  deleteNetns(state.hubNetns, errors);
  unmountAll(dir, errors);
  if (errors.length === 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    releaseName(state.stateRoot, state.name, state.id);
  }
  return { done: true, errors };
}

/** Processes of netns named like ours whose cluster directory no longer exists (a crash mid-teardown). */
function orphanNetns(root: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(NETNS_DIR);
  } catch {
    return [];
  }
  return names.filter((n) => {
    const id = clusterIdOfNetns(n);
    return id !== null && !fs.existsSync(path.join(root, id));
  });
}

function hubExists(state: ClusterState): boolean {
  return fs.existsSync(path.join(NETNS_DIR, state.hubNetns));
}

/**
 * Remove the leftovers of earlier runs: clusters whose owner process is dead, unless persistent
 * and intact, and sandbox namespaces whose cluster directory is gone. Returns the ids removed.
 */
export function cleanupStale(root: string = DEFAULT_STATE_ROOT): string[] {
  const removed: string[] = [];
  for (const dir of clusterDirs(root)) {
    let state: ClusterState | null;
    try {
      state = readState(dir);
    } catch {
      continue; // unreadable: leave it for a human rather than guess
    }
    if (state === null) {
      const age = Date.now() - fs.statSync(dir, { throwIfNoEntry: false })!.mtimeMs;
      if (age < FRESH_DIR_MS) continue;
    } else if (ownerAlive(state) || (state.persistent && state.complete && hubExists(state))) {
      // In use, or being created; or a persistent cluster that is intact. A persistent cluster
      // whose creator died half-way, or whose namespaces vanished (reboot), is a leftover.
      continue;
    }
    if (teardownSync(dir).done) removed.push(path.basename(dir));
  }
  if (root === DEFAULT_STATE_ROOT) {
    for (const ns of orphanNetns(root)) {
      const pids = pidsInNamespaces([path.join(NETNS_DIR, ns)]);
      pids.forEach((p) => signal(p, 'SIGKILL'));
      waitGoneSync(pids, 5_000);
      deleteNetns(ns, []);
    }
  }
  return removed;
}

// Exit/signal handlers for the non-persistent clusters this process owns.
const owned = new Set<string>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function teardownOwned(): void {
  for (const dir of [...owned]) {
    owned.delete(dir);
    try {
      teardownSync(dir);
    } catch {
      // Exit path: nothing sensible to do; cleanupStale() of a later run will finish the job.
    }
  }
}

function onSignal(sig: NodeJS.Signals): void {
  teardownOwned();
  uninstall();
  // Re-raise with the default action, unless the application handles the signal itself.
  if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
}

function install(): void {
  process.on('exit', teardownOwned);
  for (const s of SIGNALS) process.on(s, onSignal);
}

function uninstall(): void {
  process.off('exit', teardownOwned);
  for (const s of SIGNALS) process.off(s, onSignal);
}

/** Tear this cluster down if the process exits or is ended by SIGINT/SIGTERM/SIGHUP. */
export function ownForExit(dir: string): void {
  if (owned.size === 0) install();
  owned.add(dir);
}

export function disownForExit(dir: string): void {
  if (!owned.delete(dir)) return;
  if (owned.size === 0) uninstall();
}
