// The decision engine: transition(state, event) -> { state, effects, explanation }.
//
// Pure: no I/O, no clock, no randomness. Time arrives in events (`now`), timer ids are derived
// from a counter in the state. The daemon feeds events in the order it receives them and hands
// the effects, in order, to the actions runner (src/actions), which executes one plan at a time.
// Every effect is idempotent ("make it so"), so a plan replayed after a daemon restart is harmless.
import { STALE_SYNC_WAIT_MS, electMaster, ineligibility, nodeById, raisedPriority, staleMembersOutranking, type Ineligibility } from './election';
import type {
  ClaimedVersion,
  ClusterView,
  ConfigConflict,
  Decision,
  Effect,
  EngineEvent,
  EngineState,
  FailureRecords,
  PersistedState,
  RingId,
  Role,
} from './types';

export function emptyPersistedState(): PersistedState {
  return {
    lastRole: 'unknown',
    ringId: null,
    lastQuorateSeq: null,
    suspendedVms: [],
    suspendedAfterSeq: null,
    suspendsPending: 0,
    failureRecords: {},
    claimedVersion: null,
  };
}

/**
 * State of a freshly started daemon. `persisted` is what the previous run saved (null on first
 * boot); it decides whether the first decision tears down master duties that may still be held
 * (unknown history or previous master) and whether a master keeps `.lock.vmmgr.relocated`.
 */
export function initialState(localNodeId: number, persisted: PersistedState | null = null): EngineState {
  const p = persisted ?? emptyPersistedState();
  return {
    localNodeId,
    role: 'unknown',
    masterId: null,
    namedSince: null,
    config: null,
    quorum: null,
    configVersions: {},
    takeoverTimer: null,
    timerSeq: 0,
    recordsRing: null,
    recordsFrom: [],
    recordsSentSeq: null,
    publishedAt: null,
    servedMembers: null,
    conflict: null,
    restoredRole: p.lastRole,
    persisted: {
      ...p,
      suspendedVms: [...p.suspendedVms],
      failureRecords: { ...p.failureRecords },
      // State files written before claims existed have none.
      claimedVersion: p.claimedVersion ?? null,
      // Results of suspends the previous run asked for died with it: those VMs are unknown here,
      // so they stay suspended (never resumed blindly), and nothing is waited for any more.
      suspendsPending: 0,
    },
    lastEventAt: null,
  };
}

export function sameRing(a: RingId | null | undefined, b: RingId | null | undefined): boolean {
  if (a == null || b == null) return a == b;
  return a.nodeId === b.nodeId && a.seq === b.seq;
}

/** Merge `from` into `into` keeping the highest seq per node; returns the result and whether it changed. */
export function mergeFailureRecords(into: FailureRecords, from: FailureRecords): { records: FailureRecords; changed: boolean } {
  let out = into;
  for (const key of Object.keys(from)) {
    const id = Number(key);
    const seq = from[id];
    if (!Number.isInteger(id) || typeof seq !== 'number') continue;
    const have = out[id];
    if (have === undefined || seq > have) {
      if (out === into) out = { ...into };
      out[id] = seq;
    }
  }
  return { records: out, changed: out !== into };
}

// ---- absorbing an event into the state (no decisions yet)

interface Absorbed {
  state: EngineState;
  timerDue: boolean;
  notes: string[];
}

function absorb(state: EngineState, event: EngineEvent): Absorbed {
  const s: EngineState = { ...state, persisted: { ...state.persisted }, lastEventAt: event.now };
  const previousMembers = state.quorum?.members ?? [];
  const out: Absorbed = { state: s, timerDue: false, notes: [] };
  switch (event.type) {
    case 'config': {
      s.config = event.view;
      const claim = s.persisted.claimedVersion;
      if (claim !== null && event.view.configVersion >= claim.version) {
        // The claimed version (or a later one) arrived: whatever node claim.by wrote is settled.
        s.persisted.claimedVersion = null;
      }
      if (s.conflict !== null && event.view.configVersion > s.conflict.version) s.conflict = null;
      break;
    }
    case 'configConflict':
      if (s.config === null || event.version !== s.config.configVersion) {
        out.notes.push(`ignored a config conflict at version ${event.version} (ours is ${s.config?.configVersion ?? 'unknown'})`);
      } else if (event.from !== s.localNodeId) {
        const c: ConfigConflict = s.conflict?.version === event.version ? s.conflict : { version: event.version, from: [], master: null, masterless: false, followers: [] };
        const next: ConfigConflict = { ...c, from: [...c.from.filter((id) => id !== event.from), event.from] };
        if (event.peerRole === 'master') {
          const reported = { id: event.from, since: event.peerSince };
          if (c.master === null || masterOrder(reported, c.master) < 0) next.master = reported;
        } else if (event.peerMaster === null || event.peerMaster === s.localNodeId) {
          next.masterless = true;
        } else if (!c.followers.includes(event.peerMaster)) {
          next.followers = [...c.followers, event.peerMaster];
        }
        s.conflict = next;
      }
      break;
    case 'quorum': {
      const newRing = !sameRing(state.quorum?.ringId, event.ringId);
      s.quorum = { quorate: event.quorate, ringId: event.ringId, members: [...event.members] };
      if (newRing && !sameRing(state.recordsRing, event.ringId)) {
        // (Records of this ring that arrived before its quorum event were kept: CPG and the
        // quorum service deliver independently.)
        s.recordsRing = event.ringId;
        s.recordsFrom = [];
      }
      if (newRing) {
        // Versions are only trusted for members that stayed with us (cmap kept them up to date)
        // and for ourselves: a joiner may have changed its configuration while it was away, so
        // its version is unknown until cmap reports it again.
        const kept: Record<number, number> = {};
        for (const id of event.members) {
          const stayed = id === state.localNodeId || previousMembers.includes(id);
          if (stayed && state.configVersions[id] !== undefined) kept[id] = state.configVersions[id];
        }
        s.configVersions = kept;
      }
      s.persisted.ringId = event.ringId;
      if (event.quorate) s.persisted.lastQuorateSeq = event.ringId.seq;
      break;
    }
    case 'configVersions':
      s.configVersions = { ...state.configVersions, ...event.versions };
      break;
    case 'disconnected':
      // Corosync going away is quorum lost; the ring id is kept so that a reconnect to the
      // same ring is not mistaken for a new one.
      s.quorum = { quorate: false, ringId: state.quorum?.ringId ?? null, members: [] };
      out.notes.push('corosync disconnected');
      break;
    case 'timerFired':
      if (event.id === state.takeoverTimer) out.timerDue = true;
      else out.notes.push(`ignored stale timer ${event.id}`);
      break;
    case 'vmsSuspended': {
      s.persisted.suspendsPending = Math.max(0, state.persisted.suspendsPending - 1);
      const vms = [...state.persisted.suspendedVms];
      for (const vm of event.vms) if (!vms.includes(vm)) vms.push(vm);
      s.persisted.suspendedVms = vms;
      break;
    }
    case 'failureRecords': {
      const merged = mergeFailureRecords(state.persisted.failureRecords, event.records);
      s.persisted.failureRecords = merged.records;
      // A member's claim counts here too: the node that takes over may not have been there (or
      // may have been stale) when the claiming master was elected. A claim on our own behalf is
      // not one: we know what we wrote.
      const theirs = event.claim;
      const ours = s.persisted.claimedVersion;
      if (theirs !== undefined && theirs.by !== s.localNodeId && theirs.version > (ours?.version ?? 0) && theirs.version > (s.config?.configVersion ?? 0)) {
        s.persisted.claimedVersion = { by: theirs.by, version: theirs.version };
      }
      if (sameRing(s.recordsRing, event.ringId)) {
        if (!s.recordsFrom.includes(event.from)) s.recordsFrom = [...s.recordsFrom, event.from];
      } else if (event.ringId.seq > (s.recordsRing?.seq ?? -1)) {
        // A ring we have not been told about yet (the quorum event is still on its way).
        s.recordsRing = event.ringId;
        s.recordsFrom = [event.from];
      }
      break;
    }
  }
  return out;
}

// ---- plans

// The cluster IP goes first (DESIGN.md §1's order): it is what the rest of the network sees,
// and a new master may be taking it over right now; stopping VMmanager can take seconds.
const TEARDOWN: readonly Effect[] = [
  { type: 'removeClusterIp' },
  { type: 'stopService' },
  { type: 'removeServiceLock' },
  { type: 'removeRelocatedLock' },
];

function nodesNotIn(view: ClusterView, members: readonly number[]): number[] {
  return view.nodes
    .map((n) => n.nodeId)
    .filter((id) => !members.includes(id))
    .sort((a, b) => a - b);
}

function recordFailures(s: EngineState, nodeIds: readonly number[], seq: number): boolean {
  const add: FailureRecords = {};
  for (const id of nodeIds) add[id] = seq;
  const merged = mergeFailureRecords(s.persisted.failureRecords, add);
  s.persisted.failureRecords = merged.records;
  return merged.changed;
}

/** What this node tells a ring it is in: its failure records and the version it claims, if any. */
export function failureRecordsBroadcast(s: EngineState, ringId: RingId): Effect {
  const claim = s.persisted.claimedVersion;
  return { type: 'broadcastFailureRecords', ringId, records: s.persisted.failureRecords, ...(claim === null ? {} : { claim }) };
}

function broadcast(s: EngineState, effects: Effect[]): void {
  const ringId = s.quorum?.ringId as RingId;
  effects.push(failureRecordsBroadcast(s, ringId));
  s.recordsSentSeq = ringId.seq;
  if (!sameRing(s.recordsRing, ringId)) {
    s.recordsRing = ringId;
    s.recordsFrom = [];
  }
  if (!s.recordsFrom.includes(s.localNodeId)) s.recordsFrom = [...s.recordsFrom, s.localNodeId];
}

/** Decide the VM verdict once every member's failure records for this ring are in. */
function settleVms(s: EngineState, effects: Effect[], why: string[]): void {
  const p = s.persisted;
  if (p.suspendedAfterSeq === null || !s.quorum?.quorate) return;
  if (p.suspendsPending > 0) {
    why.push('VM decision waits for the suspend result');
    return;
  }
  const answered = sameRing(s.recordsRing, s.quorum.ringId) ? s.recordsFrom : [];
  const missing = s.quorum.members.filter((id) => !answered.includes(id));
  if (missing.length > 0) {
    why.push(`VMs stay suspended until failure records of node(s) ${missing.join(',')} arrive`);
    return;
  }
  const failedAt = p.failureRecords[s.localNodeId];
  const vms = p.suspendedVms;
  if (failedAt !== undefined && failedAt > p.suspendedAfterSeq) {
    if (vms.length > 0) effects.push({ type: 'reportVmsDiscarded', vms });
    why.push(`this node was reported failed at ring ${failedAt} after its last quorate ring ${p.suspendedAfterSeq}: its VMs were restored elsewhere, suspended copies discarded`);
  } else {
    if (vms.length > 0) effects.push({ type: 'resumeVms', vms });
    why.push(`no master reported this node failed since ring ${p.suspendedAfterSeq}: suspended VMs resumed`);
  }
  s.persisted = { ...p, suspendedVms: [], suspendedAfterSeq: null };
}

function samePersisted(a: PersistedState, b: PersistedState): boolean {
  if (a.lastRole !== b.lastRole || a.lastQuorateSeq !== b.lastQuorateSeq) return false;
  if (a.suspendedAfterSeq !== b.suspendedAfterSeq || a.suspendsPending !== b.suspendsPending) return false;
  if (!sameRing(a.ringId, b.ringId)) return false;
  if (a.failureRecords !== b.failureRecords) {
    const ka = Object.keys(a.failureRecords);
    if (ka.length !== Object.keys(b.failureRecords).length) return false;
    for (const k of ka) if (a.failureRecords[Number(k)] !== b.failureRecords[Number(k)]) return false;
  }
  const ca = a.claimedVersion;
  const cb = b.claimedVersion;
  if (ca !== cb && (ca === null || cb === null || ca.by !== cb.by || ca.version !== cb.version)) return false;
  if (a.suspendedVms.length !== b.suspendedVms.length) return false;
  return a.suspendedVms.every((vm, i) => vm === b.suspendedVms[i]);
}

// ---- the decision

export function transition(state: EngineState, event: EngineEvent): Decision {
  const { state: s, timerDue, notes } = absorb(state, event);
  const effects: Effect[] = [];
  const why: string[] = [...notes];
  const firstDecision = s.restoredRole !== null;
  const inheritedDuties = firstDecision && (s.restoredRole === 'master' || s.restoredRole === 'unknown');
  const wasMaster = state.role === 'master';
  let role: Role = state.role;

  const q = s.quorum;
  if (q === null) {
    why.push('waiting for the first quorum report');
  } else if (!q.quorate) {
    role = 'suspended';
    s.masterId = null;
    s.takeoverTimer = null;
    if (state.role !== 'suspended') {
      why.push(event.type === 'disconnected' ? 'not quorate (corosync disconnected): suspend' : 'not quorate: suspend');
      if (wasMaster || inheritedDuties) effects.push(...TEARDOWN);
      effects.push({ type: 'suspendVms' });
      const p = s.persisted;
      s.persisted = {
        ...p,
        suspendsPending: p.suspendsPending + 1,
        // Keep the oldest pending point: any failure report after it means the VMs were restored.
        suspendedAfterSeq: p.suspendedAfterSeq ?? p.lastQuorateSeq ?? -1,
      };
    } else {
      why.push('still not quorate');
    }
  } else if (s.config === null) {
    role = 'unknown';
    why.push('quorate, waiting for the configuration view');
  } else {
    role = decideQuorate(s, state, { timerDue, firstDecision, inheritedDuties }, effects, why);
  }

  if (q?.quorate) {
    // Share what this node knows about failures with the partition, once per ring (see
    // docs/engine.md). Records learnt from a member later in the same ring are not re-sent:
    // CPG delivered that member's message to every member already.
    if (s.recordsSentSeq !== q.ringId?.seq) broadcast(s, effects);
    settleVms(s, effects, why);
  }

  if (role !== 'unknown') s.restoredRole = null;
  s.role = role;
  if (s.masterId !== state.masterId) s.namedSince = s.masterId === null ? null : (s.quorum?.ringId?.seq ?? null);
  s.persisted = s.persisted.lastRole === role ? s.persisted : { ...s.persisted, lastRole: role };
  // Write-ahead: the new state is persisted before any effect runs. A daemon killed in the
  // middle of a takeover then restarts as the master it was becoming (it finishes the idempotent
  // steps but never again removes `.relocated`, which VMmanager may have written meanwhile), and
  // one killed while suspending knows a suspend result is outstanding.
  if (!samePersisted(state.persisted, s.persisted)) effects.unshift({ type: 'persistState', state: s.persisted });
  const named = s.masterId === null || role === 'master' ? '' : s.masterId === s.localNodeId ? ' (elected)' : ` (master ${s.masterId})`;
  const explanation = `${role}${named}: ${why.join('; ') || 'no change'}`;
  return { state: s, effects, explanation };
}

interface QuorateContext {
  timerDue: boolean;
  firstDecision: boolean;
  inheritedDuties: boolean;
}

function decideQuorate(s: EngineState, prev: EngineState, ctx: QuorateContext, effects: Effect[], why: string[]): Role {
  const view = s.config as ClusterView;
  const q = s.quorum as { quorate: true; ringId: RingId; members: number[] };
  const local = s.localNodeId;
  // This node decides with the table of its view, so its own version is the view's, whatever
  // cmap (or a peer) says: the file may be newer than cmap (re-read before corosync's reload)
  // or older (a newer file installed, its re-read still pending). In the second case the node
  // is stale until the re-read; deciding with the old table could name the old master.
  const versions = s.configVersions[local] === view.configVersion ? s.configVersions : { ...s.configVersions, [local]: view.configVersion };
  const unknown = q.members.filter((id) => versions[id] === undefined);
  if (unknown.length > 0) {
    // The election needs every member's config version (cmap reports them right after the
    // membership change): deciding without them could elect a node whose table is stale.
    // Hold the current role meanwhile; a pending takeover restarts its delay afterwards.
    s.takeoverTimer = null;
    why.push(`waiting for the config version of node(s) ${unknown.join(',')}`);
    return prev.role === 'suspended' ? 'unknown' : prev.role;
  }
  const election = electMaster(view, q.members, versions);
  const claim = s.persisted.claimedVersion;
  if (claim !== null && claim.by !== election.masterId && q.members.includes(claim.by) && versions[claim.by] < claim.version) {
    // The claiming node is here, no longer elected, and its file does not have the version: it
    // never wrote it (e.g. its TakeoverDelay never ran out). Nothing to skip any more.
    s.persisted = { ...s.persisted, claimedVersion: null };
  }
  // Staleness first: a stale node cannot even know whom the others elect (its table is old),
  // whatever else makes it ineligible.
  const localStale = election.newestVersion !== null && versions[local] < election.newestVersion;
  const localProblem = localStale ? 'stale-config' : ineligibility(local, nodeById(view, local), versions, election.newestVersion);
  const role = decideRole(s, prev, view, q, election.masterId, versions, localProblem, ctx, effects, why);
  if (s.masterId !== null && s.masterId !== local) claimVersion(s, view, s.masterId);
  if (s.conflict !== null) resolveConflict(s, view, role, effects, why);
  // Someone must hand the newest configuration to stale members: the elected node (master or
  // takeover pending), or without one (e.g. the edit made the master ineligible) the lowest
  // nodeid holding the newest version.
  const holders = q.members.filter((id) => versions[id] === election.newestVersion);
  const publisher = s.masterId ?? (localProblem !== 'stale-config' ? Math.min(...holders) : null);
  if (publisher === local) publishIfStale(s, versions, view.configVersion, effects, why);
  return role;
}

function decideRole(
  s: EngineState,
  prev: EngineState,
  view: ClusterView,
  q: { quorate: true; ringId: RingId; members: number[] },
  elected: number | null,
  versions: Readonly<Record<number, number>>,
  localProblem: Ineligibility | null,
  ctx: QuorateContext,
  effects: Effect[],
  why: string[],
): Role {
  const local = s.localNodeId;
  if (localProblem === 'stale-config') {
    // Our priority table may be out of date: we cannot know who the others elect.
    s.masterId = null;
    why.push('configuration older than another member\'s: slave until synced');
  } else {
    s.masterId = elected;
  }

  if (s.masterId !== local) {
    s.takeoverTimer = null;
    s.servedMembers = null;
    if (prev.role === 'master' || ctx.inheritedDuties) {
      effects.push(...TEARDOWN);
      why.push(prev.role === 'master' ? 'no longer the highest-priority eligible member: step down' : 'make sure no master duties are held');
    }
    if (s.masterId === null && localProblem === null) why.push('no eligible member: no master');
    else if (s.masterId !== null) why.push(localProblem ? `slave (${localProblem})` : 'slave');
    return 'slave';
  }

  if (prev.role === 'master') {
    // Still master on a new view: report who left since the last decision (a decision may have
    // waited for config versions over several events), refresh config on stale members.
    const left = (prev.servedMembers ?? []).filter((id) => !q.members.includes(id)).sort((a, b) => a - b);
    s.servedMembers = [...q.members];
    if (left.length > 0) {
      recordFailures(s, left, q.ringId.seq);
      broadcast(s, effects);
      effects.push({ type: 'reportNodesFailed', nodeIds: left });
      why.push(`still master; node(s) ${left.join(',')} left: reported failed`);
    } else {
      why.push('still master');
    }
    raiseOverClaim(s, view, effects, why);
    return 'master';
  }

  const restart = ctx.firstDecision && s.restoredRole === 'master';
  // A member that outranks us in the newest table but is still stale will be elected as soon
  // as it has the file (the publisher is pushing it now). Taking over meanwhile would make two
  // takeovers in one partition, the second while we still hold the duties, and our raise would
  // fork the configuration. So we wait for it, like a TakeoverDelay, but at most
  // STALE_SYNC_WAIT_MS: a member that cannot install the file (its listener is down) must not
  // keep the cluster without a master.
  const outranking = restart ? [] : staleMembersOutranking(view, q.members, versions, local);
  const waitMs = Math.max(view.takeoverDelayMs, outranking.length > 0 ? STALE_SYNC_WAIT_MS : 0);
  if (waitMs > 0 && !restart && !ctx.timerDue) {
    if (s.takeoverTimer === null) {
      s.timerSeq += 1;
      s.takeoverTimer = `takeover-${s.timerSeq}`;
      effects.push({ type: 'startTimer', id: s.takeoverTimer, ms: waitMs });
      why.push(outranking.length > 0
        ? `elected, but node(s) ${outranking.join(',')} outrank us in the newest table and are syncing it: takeover after at most ${waitMs} ms`
        : `elected: takeover after TakeoverDelay ${view.takeoverDelayMs} ms`);
    } else {
      why.push('elected: takeover pending');
    }
    return 'slave';
  }

  s.takeoverTimer = null;
  s.servedMembers = [...q.members];
  // A plain restart of the daemon on the master keeps `.lock.vmmgr.relocated`; a takeover
  // removes any stale one so that VMmanager knows it was moved and restores the failed nodes.
  if (!restart) effects.push({ type: 'removeRelocatedLock' });
  effects.push({ type: 'addClusterIp' }, { type: 'createServiceLock' });
  const failed = nodesNotIn(view, q.members);
  // The failure records reach the partition before VMmanager restores anything (the runner
  // waits for its own CPG message to come back, so every surviving member has it).
  recordFailures(s, failed, q.ringId.seq);
  broadcast(s, effects);
  effects.push({ type: 'startService', failedNodes: failed });
  // Already above every node, we still write when a version is claimed by a master elected here
  // that never delivered its file: that file would otherwise be newer than ours when it returns,
  // and its writer would take the role back (preemption, two takeovers).
  const prio = raisedPriority(view, local) ?? (outstandingClaim(s, view) !== null ? nodeById(view, local)?.prio ?? null : null);
  if (prio !== null) {
    const skipped: string[] = [];
    writeOwnPriority(s, view, prio, effects, skipped);
    why.push(`${restart ? 'master again after a daemon restart' : 'takeover'}; failed node(s): ${failed.join(',') || 'none'}; priority raised to ${prio}`, ...skipped);
  } else {
    why.push(`${restart ? 'master again after a daemon restart' : 'takeover'}; failed node(s): ${failed.join(',') || 'none'}`);
  }
  return 'master';
}

/**
 * We elected `master`, whose takeover raises its priority and so writes a new config_version:
 * remember which one (the version after our file's, or after a version claimed earlier), so that
 * if `master` is cut off before its file reaches us and we take over, we do not write the same
 * version with other content (docs/engine.md, "Claimed versions"). Once per elected node: the
 * same master elected again claims nothing more.
 */
function claimVersion(s: EngineState, view: ClusterView, master: number): void {
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
function raiseOverClaim(s: EngineState, view: ClusterView, effects: Effect[], why: string[]): void {
  const claim = outstandingClaim(s, view);
  if (claim === null) return;
  if (s.publishedAt !== null && s.publishedAt.version > claim.version) return; // already written above it
  const prio = ownWritePriority(view, s.localNodeId);
  if (prio === undefined) return;
  writeOwnPriority(s, view, prio, effects, why);
}

/** A claimed version our file does not have yet (one a master elected here may have written), or null. */
function outstandingClaim(s: EngineState, view: ClusterView): ClaimedVersion | null {
  const claim = s.persisted.claimedVersion;
  return claim !== null && claim.version > view.configVersion ? claim : null;
}

/** The prio this node writes for itself: raised above every other node, or kept when it already is. */
function ownWritePriority(view: ClusterView, local: number): number | undefined {
  return raisedPriority(view, local) ?? nodeById(view, local)?.prio;
}

/**
 * Our own write: `prio` for this node with the next config_version (raiseVersion), then publish
 * it; remembered in publishedAt. The explanation of a skipped version goes to `why`. Returns the version.
 */
function writeOwnPriority(s: EngineState, view: ClusterView, prio: number, effects: Effect[], why: string[]): number {
  const configVersion = raiseVersion(s, view, why);
  effects.push({ type: 'raisePriority', nodeId: s.localNodeId, prio, configVersion }, { type: 'publishConfig', configVersion });
  s.publishedAt = { seq: (s.quorum?.ringId as RingId).seq, version: configVersion };
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
function masterOrder(a: { id: number; since: number | null }, b: { id: number; since: number | null }): number {
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
function resolveConflict(s: EngineState, view: ClusterView, role: string, effects: Effect[], why: string[]): void {
  const c = s.conflict as ConfigConflict;
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
  const configVersion = writeOwnPriority(s, view, ownWritePriority(view, local) ?? 1, effects, why);
  why.push(`raised again as version ${configVersion} so that versions settle it`);
}

function publishIfStale(s: EngineState, versions: Readonly<Record<number, number>>, ownVersion: number, effects: Effect[], why: string[]): void {
  const seq = (s.quorum?.ringId as RingId).seq;
  const stale = (s.quorum?.members ?? []).filter((id) => (versions[id] ?? ownVersion) < ownVersion);
  if (stale.length === 0) return;
  if (s.publishedAt !== null && s.publishedAt.seq === seq && s.publishedAt.version >= ownVersion) return;
  effects.push({ type: 'publishConfig', configVersion: ownVersion });
  s.publishedAt = { seq, version: ownVersion };
  why.push(`node(s) ${stale.join(',')} have an older configuration: published version ${ownVersion}`);
}
