// A cluster's state on disk: `<stateRoot>/<id>/state.json` holds the resolved description and
// who owns it. It is written before anything is created, so teardown (by this process, by its
// exit handler, or by `cleanupStale()` in a later run) always knows every name to remove, and
// it lets another process (the CLI) re-attach to a persistent cluster.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { isAlive, startTimeOf } from '../util/process-identity';
import { isClusterId, type ResolvedCluster } from './spec';

export interface ClusterState extends ResolvedCluster {
  format: 1;
  /** Process that created the cluster; a non-persistent cluster dies with it. */
  ownerPid: number;
  /** The owner's start time (/proc/PID/stat), so a recycled pid does not look like the owner. */
  ownerStartTime: string | null;
  createdAt: string;
  /** False until every namespace, mount and config file exists. */
  complete: boolean;
}

const STATE_FILE = 'state.json';
const BY_NAME = 'by-name';

export function stateFile(dir: string): string {
  return path.join(dir, STATE_FILE);
}

export function writeState(state: ClusterState): void {
  const file = stateFile(state.dir);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

export function readState(dir: string): ClusterState | null {
  let text: string;
  try {
    text = fs.readFileSync(stateFile(dir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const state = JSON.parse(text) as ClusterState;
  if (state.format !== 1 || !isClusterId(state.id)) {
    throw new Error(`${stateFile(dir)}: not a sandbox cluster state (format ${String(state.format)})`);
  }
  return state;
}

/** Ids of every cluster directory under root (whether or not its state file exists yet). */
export function clusterDirs(root: string): string[] {
  try {
    return fs
      .readdirSync(root)
      .filter(isClusterId)
      .map((id) => path.join(root, id));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export function ownerAlive(state: Pick<ClusterState, 'ownerPid' | 'ownerStartTime'>): boolean {
  return isAlive(state.ownerPid) && startTimeOf(state.ownerPid) === state.ownerStartTime;
}

/** Reserve `name` for cluster `id` (atomically: a symlink by-name/<name> -> ../<id>). */
export function claimName(root: string, name: string, id: string): void {
  const dir = path.join(root, BY_NAME);
  fs.mkdirSync(dir, { recursive: true });
  const link = path.join(dir, name);
  try {
    fs.symlinkSync(path.join('..', id), link);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const holder = idOfName(root, name);
    // A link whose cluster directory is gone is a leftover: take it over.
    if (holder !== null && fs.existsSync(path.join(root, holder))) {
      throw new Error(`sandbox cluster name "${name}" is already used by cluster ${holder}`);
    }
    fs.rmSync(link, { force: true });
    fs.symlinkSync(path.join('..', id), link);
  }
}

export function idOfName(root: string, name: string): string | null {
  try {
    return path.basename(fs.readlinkSync(path.join(root, BY_NAME, name)));
  } catch {
    return null;
  }
}

export function releaseName(root: string, name: string, id: string): void {
  if (idOfName(root, name) === id) fs.rmSync(path.join(root, BY_NAME, name), { force: true });
}
