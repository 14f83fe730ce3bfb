// The decision engine: transition(state, event) -> { state, effects, explanation }.
//
// Pure: no I/O, no clock, no randomness. Time arrives in events (`now`), timer ids are derived
// from a counter in the state. The interpreter (src/daemon/interpreter.ts) feeds events in the
// order they arrive and runs the effects, in order, one plan at a time, asking effect-traits.ts
// what it may run. Every effect is idempotent ("make it so"), so a plan replayed after a daemon
// restart is harmless. docs/design.md §1 says what a node does; docs/engine.md how this decides it.
import { absorb } from './absorb';
import { claimVersion, outstandingClaim, publishIfStale, raiseOverClaim, resolveConflict, writeOwnPriority } from './config-claims';
import { STALE_SYNC_WAIT_MS, nameMaster, nodeById, raisedPriority, staleMembersOutranking, type MasterNaming } from './election';
import { noteDuties, restoresNow, settleFenceWindows } from './fencing';
import { decideLink } from './link';
import { HANDOVER_WAIT_MS, decideCommand, freezeForMaintenance, handoverFrom, inMaintenance, trackMasters } from './operations';
import { broadcast, failureRecordsBroadcast, nodesNotIn, recordFailures, settleVms } from './records';
import { samePersisted } from './state';
import type { ClusterView, Decision, Effect, EngineEvent, EngineState, RingId, Role } from './types';

export { emptyPersistedState, initialState, sameRing } from './state';
export { failureRecordsBroadcast, mergeFailureRecords } from './records';

// The cluster IP goes first (docs/design.md §1's order): it is what the rest of the network sees,
// and a new master may be taking it over right now; stopping VMmanager can take seconds.
const TEARDOWN: readonly Effect[] = [{ type: 'removeClusterIp' }, { type: 'stopService' }, { type: 'removeServiceLock' }, { type: 'removeRelocatedLock' }];

/** Tear down master duties; the cluster IP stops counting as held from this decision on. */
function teardown(s: EngineState, effects: Effect[]): void {
  effects.push(...TEARDOWN);
  s.clusterIp = { held: false, why: 'removed' };
}

export function transition(state: EngineState, event: EngineEvent): Decision {
  // An operator's command changes no role by itself: it becomes an edit the master writes (operations.ts).
  if (event.type === 'command') return decideCommand(state, event);
  const decision = decide(state, event);
  return inMaintenance(decision.state) ? freezeForMaintenance(state, event, decision) : decision;
}

function decide(state: EngineState, event: EngineEvent): Decision {
  const { state: s, timerDue, link, notes } = absorb(state, event);
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
      if (wasMaster || inheritedDuties) teardown(s, effects);
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
  } else if (q.ringId === null) {
    role = 'unknown';
    why.push('quorate, waiting for the ring id');
  } else {
    role = decideQuorate(s, state, s.config, { quorate: true, ringId: q.ringId, members: q.members }, { timerDue, firstDecision, inheritedDuties }, effects, why);
  }

  if (q?.quorate && q.ringId !== null) {
    // Share what this node knows about failures with the partition, once per ring (see
    // docs/engine.md). Records learnt from a member later in the same ring are not re-sent:
    // CPG delivered that member's message to every member already.
    if (s.recordsSentSeq !== q.ringId.seq) {
      // A master also says so once per ring (the ordered hand-over needs to know it, operations.ts).
      if (state.role === 'master' && role === 'master') effects.push({ type: 'announceTakeover', from: null });
      broadcast(s, q.ringId, effects);
    } else if (event.type === 'groupJoined' && event.nodeIds.some((id) => id !== s.localNodeId)) {
      // Listeners that joined the group after our broadcast on this ring (e.g. a daemon that
      // connected after the ring formed) missed it, and their VM verdict waits for every
      // member's records: send ours again (receivers merge).
      effects.push(failureRecordsBroadcast(s, q.ringId));
      // ... and a master says again that it is one (a restarted listener knows no master to wait for, operations.ts).
      if (role === 'master') effects.push({ type: 'announceTakeover', from: null });
      why.push(`node(s) ${event.nodeIds.join(',')} joined the group: failure records sent again`);
    }
    settleVms(s, effects, why);
  }
  if (event.type === 'configVersions' && s.config !== null && Object.values(event.versions).some((v) => v > (s.config?.configVersion ?? 0))) {
    // A member with a newer config_version than our table: our file may have been replaced
    // without a cmap change we track (`config sync` before corosync restarted, a file pushed to
    // us and acknowledged before any reload). Re-read it, or we would stay stale for good.
    effects.push({ type: 'readConfig' });
  }

  if (role !== 'unknown') s.restoredRole = null;
  s.role = role;
  // Restores held back for a fence window: released, forgotten or timed (fencing.ts).
  settleFenceWindows(s, s.config, q?.quorate ? q.ringId : null, q?.members ?? [], effects, why);
  const order = decideLink(s, link, effects, why);
  noteDuties(s, effects);
  trackMasters(s);
  if (s.masterId !== state.masterId) s.namedSince = s.masterId === null ? null : (s.quorum?.ringId?.seq ?? null);
  s.persisted = s.persisted.lastRole === role ? s.persisted : { ...s.persisted, lastRole: role };
  // Write-ahead: the new state is persisted before any effect runs. A daemon killed in the
  // middle of a takeover then restarts as the master it was becoming (it finishes the idempotent
  // steps but never again removes `.relocated`, which VMmanager may have written meanwhile), and
  // one killed while suspending knows a suspend result is outstanding.
  if (!samePersisted(state.persisted, s.persisted)) effects.unshift({ type: 'persistState', state: s.persisted });
  const named = s.masterId === null || role === 'master' ? '' : s.masterId === s.localNodeId ? ' (elected)' : ` (master ${s.masterId})`;
  const explanation = `${role}${named}: ${why.join('; ') || 'no change'}`;
  return { state: s, effects, explanation, ...(order === undefined ? {} : { order }) };
}

interface QuorateContext {
  timerDue: boolean;
  firstDecision: boolean;
  inheritedDuties: boolean;
}

/** A quorate membership as corosync reported it. */
interface QuorateMembership {
  quorate: true;
  ringId: RingId;
  members: number[];
}

function decideQuorate(s: EngineState, prev: EngineState, view: ClusterView, q: QuorateMembership, ctx: QuorateContext, effects: Effect[], why: string[]): Role {
  const local = s.localNodeId;
  const naming = nameMaster(view, local, q.members, s.configVersions);
  const { versions, unknown, localProblem } = naming;
  if (unknown.length > 0) {
    // The election needs every member's config version (cmap reports them right after the
    // membership change): deciding without them could elect a node whose table is stale.
    // Hold the current role meanwhile; a pending takeover restarts its delay afterwards.
    s.takeoverTimer = null;
    why.push(`waiting for the config version of node(s) ${unknown.join(',')}`);
    return prev.role === 'suspended' ? 'unknown' : prev.role;
  }
  const claim = s.persisted.claimedVersion;
  if (claim !== null && claim.by !== naming.elected && q.members.includes(claim.by) && versions[claim.by] < claim.version) {
    // The claiming node is here, no longer elected, and its file does not have the version: it
    // never wrote it (e.g. its TakeoverDelay never ran out). Nothing to skip any more.
    s.persisted = { ...s.persisted, claimedVersion: null };
  }
  const role = decideRole(s, prev, view, q, naming, ctx, effects, why);
  if (s.masterId !== null && s.masterId !== local) claimVersion(s, view, s.masterId);
  if (s.conflict !== null) resolveConflict(s, s.conflict, view, q.ringId.seq, role, effects, why);
  // Someone must hand the newest configuration to stale members: the elected node (master or
  // takeover pending), or without one (e.g. the edit made the master ineligible) the lowest
  // nodeid holding the newest version.
  const holders = q.members.filter((id) => versions[id] === naming.newestVersion);
  const publisher = s.masterId ?? (localProblem !== 'stale-config' ? Math.min(...holders) : null);
  if (publisher === local) publishIfStale(s, q.ringId.seq, versions, view.configVersion, effects, why);
  return role;
}

function decideRole(s: EngineState, prev: EngineState, view: ClusterView, q: QuorateMembership, named: MasterNaming, ctx: QuorateContext, effects: Effect[], why: string[]): Role {
  const local = s.localNodeId;
  const { localProblem, versions } = named;
  // Stale: our priority table may be out of date, we cannot know who the others elect.
  s.masterId = named.masterId;
  if (localProblem === 'stale-config') why.push("configuration older than another member's: slave until synced");

  if (s.masterId !== local) {
    s.takeoverTimer = null;
    s.servedMembers = null;
    if (prev.role === 'master' || ctx.inheritedDuties) {
      teardown(s, effects);
      why.push(prev.role === 'master' ? 'no longer the highest-priority eligible member: step down' : 'make sure no master duties are held');
    }
    // The ordered hand-over: the node elected now waits for this (operations.ts).
    if (prev.role === 'master') effects.push({ type: 'announceRelease' });
    if (s.masterId === null && localProblem === null) why.push('no eligible member: no master');
    else if (localProblem !== null && localProblem !== 'stale-config') why.push(`not eligible here (${localProblem})`);
    else if (s.masterId !== null && why.length === 0) why.push('a higher-priority member is master');
    return 'slave';
  }

  if (prev.role === 'master') {
    // Still master on a new view: report who left since the last decision (a decision may have
    // waited for config versions over several events), refresh config on stale members.
    const left = (prev.servedMembers ?? []).filter((id) => !q.members.includes(id)).sort((a, b) => a - b);
    s.servedMembers = [...q.members];
    // Those whose fence window has not passed wait (fencing.ts); the rest are reported now.
    const ready = left.length > 0 ? restoresNow(s, left, s.lastEventAt ?? 0, false, why) : [];
    if (ready.length > 0) {
      recordFailures(s, ready, q.ringId.seq);
      broadcast(s, q.ringId, effects);
      effects.push({ type: 'reportNodesFailed', nodeIds: ready });
      why.push(`still master; node(s) ${ready.join(',')} left: reported failed`);
    } else if (left.length > 0) {
      why.push(`still master; node(s) ${left.join(',')} left`);
    } else {
      why.push('still master');
    }
    raiseOverClaim(s, view, q.ringId.seq, effects, why);
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
  // A hand-over between two live members: the old master releases first (operations.ts). Its
  // release, not TakeoverDelay, decides when; a release already in ends the wait at once.
  const from = restart ? null : handoverFrom(s, q.members);
  const handover = s.handoverFrom ?? null;
  const staleWaitMs = outranking.length > 0 ? STALE_SYNC_WAIT_MS : 0;
  const waitMs = from !== null ? HANDOVER_WAIT_MS : handover !== null ? staleWaitMs : Math.max(view.takeoverDelayMs, staleWaitMs);
  if (waitMs > 0 && !restart && !ctx.timerDue) {
    if (s.takeoverTimer === null) {
      s.timerSeq += 1;
      s.takeoverTimer = `takeover-${s.timerSeq}`;
      effects.push({ type: 'startTimer', id: s.takeoverTimer, ms: waitMs });
      why.push(
        from !== null
          ? `elected: waiting for node ${from} to release the master duties (ordered hand-over), at most ${waitMs} ms`
          : staleWaitMs > 0
            ? `elected, but node(s) ${outranking.join(',')} outrank us in the newest table and are syncing it: takeover after at most ${waitMs} ms`
            : `elected: takeover after TakeoverDelay ${view.takeoverDelayMs} ms`,
      );
    } else {
      why.push(from !== null ? `elected: waiting for node ${from} to release the master duties` : 'elected: takeover pending');
    }
    return 'slave';
  }

  s.takeoverTimer = null;
  s.servedMembers = [...q.members];
  // A plain restart of the daemon on the master keeps `.lock.vmmgr.relocated`; a takeover
  // removes any stale one so that VMmanager knows it was moved and restores the failed nodes.
  if (!restart) effects.push({ type: 'removeRelocatedLock' });
  effects.push({ type: 'addClusterIp' }, { type: 'createServiceLock' });
  // Only the nodes whose fence window has passed are restored now; the others wait (fencing.ts).
  const failed = restoresNow(s, nodesNotIn(view, q.members), s.lastEventAt ?? 0, restart, why);
  // The failure records reach the partition before VMmanager restores anything (the runner
  // waits for its own CPG message to come back, so every surviving member has it).
  recordFailures(s, failed, q.ringId.seq);
  broadcast(s, q.ringId, effects);
  effects.push({ type: 'startService', failedNodes: failed });
  effects.push({ type: 'announceTakeover', from: handover });
  if (handover !== null) {
    why.push(ctx.timerDue && from !== null ? `node ${handover} did not release within ${HANDOVER_WAIT_MS} ms: taking over anyway` : `node ${handover} released the master duties`);
  }
  // Already above every node, we still write when a version is claimed by a master elected here
  // that never delivered its file: that file would otherwise be newer than ours when it returns,
  // and its writer would take the role back (preemption, two takeovers).
  const prio = raisedPriority(view, local) ?? (outstandingClaim(s, view) !== null ? (nodeById(view, local)?.prio ?? null) : null);
  if (prio !== null) {
    const skipped: string[] = [];
    writeOwnPriority(s, view, q.ringId.seq, prio, effects, skipped);
    why.push(`${restart ? 'master again after a daemon restart' : 'takeover'}; failed node(s): ${failed.join(',') || 'none'}; priority raised to ${prio}`, ...skipped);
  } else {
    why.push(`${restart ? 'master again after a daemon restart' : 'takeover'}; failed node(s): ${failed.join(',') || 'none'}`);
  }
  return 'master';
}
