// Config versions this node writes or waits for (docs/engine.md, "Claimed versions" and
// "Same-version conflicts"): a version a master elected here may have written, our own writes
// above it, and which of two masters holding different files with one version raises again.
import { nodeById, raisedPriority } from './election';
import type { ClaimedVersion, ClusterView, ConfigConflict, Effect, EngineState } from './types';

/**
 * We elected `master`, whose takeover raises its priority and so writes a new config_version:
 * remember which one (the version after our file's, or after a version claimed earlier), so that
 * if `master` is cut off before its file reaches us and we take over, we do not write the same
 * version with other content (docs/engine.md, "Claimed versions"). Once per elected node: the
 * same master elected again claims nothing more.
 */
export function claimVersion(s: EngineState, view: ClusterView, master: number): void {
  const claim = s.persisted.claimedVersion;
  // It writes when it raises, and also (prio kept) above a version claimed before it (the same
  // claim reaches it with our failure records): see the takeover in decideRole.
  if (raisedPriority(view, master) === null && outstandingClaim(s, view) === null) return;
  if (claim !== null && claim.by === master) return;
  const base = Math.max(view.configVersion, claim?.version ?? 0);
  s.persisted = { ...s.persisted, claimedVersion: { by: master, version: base + 1 } };
}

/**
 * A member told us of a version claimed by a master elected while we were away or stale, which
 * that master may have written and never delivered: write above it now (prio kept, or raised if
 * someone outranks us), so that the file it returns with is older than ours and it comes back as
 * a slave instead of taking the role back.
 */
export function raiseOverClaim(s: EngineState, view: ClusterView, seq: number, effects: Effect[], why: string[]): void {
  const claim = outstandingClaim(s, view);
  if (claim === null) return;
  if (s.publishedAt !== null && s.publishedAt.version > claim.version) return; // already written above it
  const prio = ownWritePriority(view, s.localNodeId);
  if (prio === undefined) return;
  writeOwnPriority(s, view, seq, prio, effects, why);
}

/** A claimed version our file does not have yet (one a master elected here may have written), or null. */
export function outstandingClaim(s: EngineState, view: ClusterView): ClaimedVersion | null {
  const claim = s.persisted.claimedVersion;
  return claim !== null && claim.version > view.configVersion ? claim : null;
}

/** The prio this node writes for itself: raised above every other node, or kept when it already is. */
export function ownWritePriority(view: ClusterView, local: number): number | undefined {
  return raisedPriority(view, local) ?? nodeById(view, local)?.prio;
}

/**
 * Our own write: `prio` for this node with the next config_version (raiseVersion), then publish
 * it; remembered in publishedAt. The explanation of a skipped version goes to `why`. Returns the version.
 */
export function writeOwnPriority(s: EngineState, view: ClusterView, seq: number, prio: number, effects: Effect[], why: string[]): number {
  const configVersion = raiseVersion(s, view, why);
  effects.push({ type: 'raisePriority', nodeId: s.localNodeId, prio, configVersion }, { type: 'publishConfig', configVersion });
  s.publishedAt = { seq, version: configVersion };
  return configVersion;
}

/**
 * The config_version of our own next write: one above our file's, or above a version another
 * node may have written (claimedVersion); the explanation says why a version was skipped.
 */
function raiseVersion(s: EngineState, view: ClusterView, why: string[]): number {
  const claim = outstandingClaim(s, view);
  if (claim === null) return view.configVersion + 1;
  const skipped = claim.version === view.configVersion + 1 ? `${claim.version}` : `${view.configVersion + 1}-${claim.version}`;
  why.push(`config_version ${claim.version + 1}: skipping ${skipped}, which node ${claim.by} may have written (it was elected here, its file never arrived)`);
  return claim.version + 1;
}

/** Which of two masters keeps the role: the one master longest (lowest ring seq), then the lowest nodeid. */
export function masterOrder(a: { id: number; since: number | null }, b: { id: number; since: number | null }): number {
  const sa = a.since ?? Number.POSITIVE_INFINITY;
  const sb = b.since ?? Number.POSITIVE_INFINITY;
  return sa !== sb ? (sa < sb ? -1 : 1) : a.id - b.id;
}

/**
 * A member holds another file with our config_version. Versions decide, never digests: the
 * master raises again on its own file with a higher version, which every member installs (the
 * other file's holders included); non-masters wait for it. Two masters (each elected from its
 * own table, e.g. one returning from a partition): the one that has been master longest keeps
 * the role (ring seqs are comparable across partitions; ties: lowest nodeid), so a returning
 * node never preempts the sitting master; it waits for the master's file, installs it and steps
 * down. Reports from the other master's slaves wait for that master's own report (every member
 * sends a hello when someone joins), so the order of arrival never makes both raise.
 */
export function resolveConflict(s: EngineState, c: ConfigConflict, view: ClusterView, seq: number, role: string, effects: Effect[], why: string[]): void {
  const local = s.localNodeId;
  const who = `node(s) ${c.from.join(',')} hold another corosync.conf with config_version ${c.version}`;
  if (role !== 'master') {
    why.push(`${who}: waiting for the master's next version`);
    return;
  }
  const ours = { id: local, since: s.namedSince };
  if (c.master !== null && masterOrder(c.master, ours) < 0) {
    why.push(`${who}; node ${c.master.id} has been master since ring ${c.master.since ?? '?'} (here since ${ours.since ?? '?'}): it keeps the role and raises, waiting for its file`);
    return;
  }
  if (c.master === null && !c.masterless) {
    why.push(`${who}; waiting for the report of their master(s) ${c.followers.join(',')}`);
    return;
  }
  if (s.publishedAt !== null && s.publishedAt.version > c.version) return; // already raised past it
  why.push(who);
  const configVersion = writeOwnPriority(s, view, seq, ownWritePriority(view, local) ?? 1, effects, why);
  why.push(`raised again as version ${configVersion} so that versions settle it`);
}

export function publishIfStale(s: EngineState, seq: number, versions: Readonly<Record<number, number>>, ownVersion: number, effects: Effect[], why: string[]): void {
  const stale = (s.quorum?.members ?? []).filter((id) => (versions[id] ?? ownVersion) < ownVersion);
  if (stale.length === 0) return;
  if (s.publishedAt !== null && s.publishedAt.seq === seq && s.publishedAt.version >= ownVersion) return;
  effects.push({ type: 'publishConfig', configVersion: ownVersion });
  s.publishedAt = { seq, version: ownVersion };
  why.push(`node(s) ${stale.join(',')} have an older configuration: published version ${ownVersion}`);
}
