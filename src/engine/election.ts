// Master election: a pure function of what every member of a partition sees identically
// (the quorum membership, the priority table of the shared config version, and the members'
// config versions from cmap). Same inputs, same winner, on every node.
import type { ClusterView, NodeInfo } from './types';

export type Ineligibility = 'not-configured' | 'replication-off' | 'standby' | 'no-prio' | 'version-unknown' | 'stale-config';

export interface ElectionResult {
  /** The winner, or null when no member is eligible. */
  masterId: number | null;
  /** Highest config version among the members (null when no member's version is known). */
  newestVersion: number | null;
}

/** Why a member cannot be master, or null if it can. */
export function ineligibility(nodeId: number, node: NodeInfo | undefined, versions: Readonly<Record<number, number>>, newestVersion: number | null): Ineligibility | null {
  if (node === undefined) return 'not-configured';
  if (!node.replication) return 'replication-off';
  if (node.standby === true) return 'standby';
  if (node.prio === undefined) return 'no-prio';
  const version = versions[nodeId];
  // An unknown version cannot be proven current: treating it as eligible could let two nodes
  // with different knowledge pick different masters.
  if (version === undefined) return 'version-unknown';
  if (newestVersion !== null && version < newestVersion) return 'stale-config';
  return null;
}

export function newestMemberVersion(members: readonly number[], versions: Readonly<Record<number, number>>): number | null {
  let newest: number | null = null;
  for (const id of members) {
    const v = versions[id];
    if (v !== undefined && (newest === null || v > newest)) newest = v;
  }
  return newest;
}

// Views are immutable inputs, so their index is computed once per view object and forgotten
// with it (a decision runs per membership event; a view changes only on config edits).
const indexes = new WeakMap<ClusterView, Map<number, NodeInfo>>();

/** The configured node with this id (shared by the engine and the simulator). */
export function nodeById(view: ClusterView, nodeId: number): NodeInfo | undefined {
  let index = indexes.get(view);
  if (index === undefined) {
    index = new Map(view.nodes.map((n) => [n.nodeId, n]));
    indexes.set(view, index);
  }
  return index.get(nodeId);
}

/**
 * Highest prio among eligible members; ties go to the lowest nodeid.
 * Linear in the number of members (see bench/engine.ts for 3, 16 and 32-node views).
 */
export function electMaster(view: ClusterView, members: readonly number[], versions: Readonly<Record<number, number>>): ElectionResult {
  const newestVersion = newestMemberVersion(members, versions);
  let best: { nodeId: number; prio: number } | null = null;
  for (const id of members) {
    const node = nodeById(view, id);
    // ineligibility() refuses a node without prio; the check here only tells the compiler so.
    if (node === undefined || node.prio === undefined || ineligibility(id, node, versions, newestVersion) !== null) continue;
    const prio = node.prio;
    if (best === null || prio > best.prio || (prio === best.prio && node.nodeId < best.nodeId)) best = { nodeId: node.nodeId, prio };
  }
  return { masterId: best === null ? null : best.nodeId, newestVersion };
}

/**
 * How long an elected node waits for members that outrank it in the newest table but are still
 * stale (the publisher pushes them the file; installing it and corosync's reload take well under
 * a second, a round that misses a member ends after 10 s): longer than one distribution round.
 */
export const STALE_SYNC_WAIT_MS = 15_000;

/**
 * Members that would win the election by our (newest) table if their configuration were current:
 * configured, replication on, a prio above ours (or equal with a lower nodeid), version older than
 * the newest. Sorted by nodeid.
 */
export function staleMembersOutranking(view: ClusterView, members: readonly number[], versions: Readonly<Record<number, number>>, local: number): number[] {
  const self = nodeById(view, local);
  if (self === undefined || self.prio === undefined) return [];
  const newest = newestMemberVersion(members, versions);
  const out: number[] = [];
  for (const id of members) {
    if (id === local) continue;
    const n = nodeById(view, id);
    if (n === undefined || !n.replication || n.standby === true || n.prio === undefined) continue;
    const version = versions[id];
    if (version === undefined || newest === null || version >= newest) continue;
    if (n.prio > self.prio || (n.prio === self.prio && id < local)) out.push(id);
  }
  return out.sort((a, b) => a - b);
}

/** The priority that puts `nodeId` strictly above every other configured node, or null if it already is. */
export function raisedPriority(view: ClusterView, nodeId: number): number | null {
  let own: number | undefined;
  let highestOther = -Infinity;
  for (const n of view.nodes) {
    if (n.nodeId === nodeId) own = n.prio;
    else if (n.prio !== undefined && n.prio > highestOther) highestOther = n.prio;
  }
  if (own !== undefined && own > highestOther) return null;
  return highestOther === -Infinity ? (own ?? 1) : highestOther + 1;
}

/** Whom this node names master in a quorate membership, and why it may not know. */
export interface MasterNaming {
  /** The master this node names: null when none is eligible, or when this node cannot know (stale, versions unknown). */
  masterId: number | null;
  /** The election's winner by this node's table (named unless this node is stale). */
  elected: number | null;
  newestVersion: number | null;
  /** The members' versions, this node's own being its file's (the table it elects with). */
  versions: Readonly<Record<number, number>>;
  /** Members whose config_version is not known yet: no decision until it is. */
  unknown: number[];
  /** Why this node cannot be master (stale-config first: then it cannot even know who is). */
  localProblem: Ineligibility | null;
}

/**
 * The one rule for naming the master, used by the engine and by `corolistener -l` without a
 * daemon. This node decides with the table of its view, so its own version is the view's,
 * whatever cmap (or a peer) says: the file may be newer than cmap (re-read before corosync's
 * reload) or older (a newer file installed, its re-read still pending). In the second case the
 * node is stale until the re-read, and names nobody: its old table could name the old master.
 */
export function nameMaster(view: ClusterView, local: number, members: readonly number[], memberVersions: Readonly<Record<number, number>>): MasterNaming {
  const versions = memberVersions[local] === view.configVersion ? memberVersions : { ...memberVersions, [local]: view.configVersion };
  const unknown = members.filter((id) => versions[id] === undefined);
  const { masterId: elected, newestVersion } = electMaster(view, members, versions);
  const localStale = newestVersion !== null && versions[local] < newestVersion;
  const localProblem = localStale ? 'stale-config' : ineligibility(local, nodeById(view, local), versions, newestVersion);
  const masterId = unknown.length > 0 || localProblem === 'stale-config' ? null : elected;
  return { masterId, elected, newestVersion, versions, unknown, localProblem };
}
