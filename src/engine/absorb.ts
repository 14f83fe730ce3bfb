// Absorbing an event into the engine's state, before any decision: what the event tells, kept.
import { masterOrder } from './config-claims';
import { absorbFencing, isFenceTimer } from './fencing';
import { absorbCarrier, absorbClusterIp, linkConfirmed, type LinkNews } from './link';
import { mergeFailureRecords } from './records';
import { sameRing } from './state';
import type { ConfigConflict, EngineEvent, EngineState } from './types';

export interface Absorbed {
  state: EngineState;
  timerDue: boolean;
  /** What the event means for the cluster IP's link (link.ts). */
  link: LinkNews;
  notes: string[];
}

export function absorb(state: EngineState, event: EngineEvent): Absorbed {
  const s: EngineState = { ...state, persisted: { ...state.persisted }, lastEventAt: event.now };
  const previousMembers = state.quorum?.members ?? [];
  const out: Absorbed = { state: s, timerDue: false, link: null, notes: [] };
  absorbFencing(s, state, event);
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
      // A master that left our membership holds nothing we wait for (operations.ts).
      if (state.knownMaster != null && !event.members.includes(state.knownMaster)) s.knownMaster = null;
      s.persisted.ringId = event.ringId;
      if (event.quorate) s.persisted.lastQuorateSeq = event.ringId.seq;
      if (newRing && linkConfirmed(s, null)) out.link = 'confirmed';
      break;
    }
    case 'configVersions':
      s.configVersions = { ...state.configVersions, ...event.versions };
      break;
    case 'disconnected':
      // Corosync going away is quorum lost; the ring id is kept so that a reconnect to the
      // same ring is not mistaken for a new one.
      s.quorum = { quorate: false, ringId: state.quorum?.ringId ?? null, members: [] };
      s.knownMaster = null;
      out.notes.push('corosync disconnected');
      break;
    case 'timerFired':
      if (event.id === state.takeoverTimer) out.timerDue = true;
      else if (linkConfirmed(s, event.id)) out.link = 'confirmed';
      else if (isFenceTimer(state, event.id)) out.notes.push('a fence window ended');
      else out.notes.push(`ignored stale timer ${event.id}`);
      break;
    case 'vmsSuspended': {
      s.persisted.suspendsPending = Math.max(0, state.persisted.suspendsPending - 1);
      const vms = [...state.persisted.suspendedVms];
      for (const vm of event.vms) if (!vms.includes(vm)) vms.push(vm);
      s.persisted.suspendedVms = vms;
      break;
    }
    case 'carrier':
      out.link = absorbCarrier(s, state, event);
      break;
    case 'clusterIp':
      out.link = absorbClusterIp(s, state, event);
      break;
    case 'groupJoined':
    case 'fencing':
    case 'dutyReleased':
      break;
    case 'released':
      // The ordered hand-over (operations.ts): the master we knew holds nothing any more.
      if (state.knownMaster === event.from) s.knownMaster = null;
      break;
    case 'takenOver':
      if (event.from !== state.localNodeId) s.knownMaster = event.from;
      break;
    case 'command':
      break; // decided in operations.ts, never absorbed
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
