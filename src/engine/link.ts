// Carrier tracking of the cluster IP's device (keepalived's `track_interface`), decided here so
// the daemon only reports the carrier and runs what comes out (docs/design.md §5, "Carrier").
//
// Lost while this node is master or holds the cluster IP: the address goes at once (beside the
// plan: the step in flight may wait for seconds on a CPG round trip while corosync gathers a new
// membership, and a new master may be elected meanwhile), and a master asks for it back at the
// head of its plan. Back: the address is taken again only once corosync confirms the membership:
// a new ring, or corosync's failure-detection time since the carrier's return with the ring
// unchanged. Until then a duplicate-address check proves nothing: this node may be the old master
// of a partition that elected another one while it was cut off.
import { sameRing } from './state';
import type { CarrierEvent, ClusterIpEvent, Effect, EngineState } from './types';

/** What a carrier or cluster-IP event means for the decision (set while absorbing it). */
export type LinkNews = 'carrier-lost' | 'carrier-back' | 'confirmed' | 'added-without-carrier' | null;

export function absorbCarrier(s: EngineState, prev: EngineState, e: CarrierEvent): LinkNews {
  const hold = prev.link.hold;
  if (!e.up) {
    const duties = prev.role === 'master' || prev.clusterIp.held;
    s.link = { dev: e.dev, carrier: false, hold: duties ? { ring: prev.quorum?.ringId ?? null, backAt: null, confirmMs: e.confirmMs, timer: null } : hold };
    if (!duties) return null;
    s.clusterIp = { held: false, why: `no carrier on ${e.dev}` };
    return 'carrier-lost';
  }
  s.link = { dev: e.dev, carrier: true, hold: hold === null ? null : { ...hold, backAt: e.now, confirmMs: e.confirmMs, timer: null } };
  return hold === null ? null : 'carrier-back';
}

/** The outcome of one addClusterIp attempt. */
export function absorbClusterIp(s: EngineState, prev: EngineState, e: ClusterIpEvent): LinkNews {
  if (!e.held) {
    s.clusterIp = { held: false, why: `it could not be taken: ${e.why ?? 'unknown error'}` };
    return null;
  }
  if (!prev.link.carrier) {
    // The carrier went while the address was being added (after its removal was decided).
    s.clusterIp = { held: false, why: `carrier lost on ${prev.link.dev ?? '?'} while adding the cluster IP` };
    return 'added-without-carrier';
  }
  // Not master any more: its removal is decided already; it does not count as held.
  if (prev.role === 'master') s.clusterIp = { held: true, why: '' };
  return null;
}

/** A timer or a new ring that confirms the membership after the carrier's return. */
export function linkConfirmed(s: EngineState, timerId: string | null): boolean {
  const hold = s.link.hold;
  if (hold === null || hold.backAt === null) return false;
  if (timerId !== null ? timerId === hold.timer : !sameRing(s.quorum?.ringId, hold.ring)) {
    s.link = { ...s.link, hold: null };
    return true;
  }
  return false;
}

/**
 * The link's part of a decision, after the role's. Returns 'clusterIpFirst' when the plan must
 * take the cluster IP before whatever an older plan still owes.
 */
export function decideLink(s: EngineState, news: LinkNews, effects: Effect[], why: string[]): 'clusterIpFirst' | undefined {
  const dev = s.link.dev ?? '?';
  const master = s.role === 'master';
  const takeBack = (): 'clusterIpFirst' | undefined => {
    if (!master || effects.some((e) => e.type === 'addClusterIp')) return undefined;
    effects.push({ type: 'addClusterIp' });
    return 'clusterIpFirst';
  };
  switch (news) {
    case 'carrier-lost':
    case 'added-without-carrier':
      effects.push({ type: 'removeClusterIpNow' });
      why.push(`no carrier on ${dev}: cluster IP removed at once${master ? ', taken back once the link is confirmed' : ''}`);
      return takeBack();
    case 'carrier-back': {
      const hold = s.link.hold;
      if (hold === null) return undefined;
      s.timerSeq += 1;
      const timer = `link-${s.timerSeq}`;
      s.link = { ...s.link, hold: { ...hold, timer } };
      effects.push({ type: 'startTimer', id: timer, ms: hold.confirmMs });
      why.push(`carrier back on ${dev}: the cluster IP waits for corosync to confirm the membership (a new ring, or ${hold.confirmMs} ms)`);
      return undefined;
    }
    case 'confirmed':
      why.push(`link on ${dev} confirmed by corosync`);
      return s.clusterIp.held ? undefined : takeBack();
    default:
      return undefined;
  }
}

/** Why the link does not let this node take the cluster IP now (retried), or null. */
export function linkRefusal(s: EngineState, now: number): string | null {
  const { dev, carrier, hold } = s.link;
  if (dev === null) return null;
  if (!carrier) return `no carrier on ${dev}: not taking the cluster IP`;
  if (hold === null) return null;
  if (hold.backAt === null || (sameRing(s.quorum?.ringId, hold.ring) && now - hold.backAt < hold.confirmMs)) {
    return `carrier back on ${dev}: waiting for corosync to confirm the membership before taking the cluster IP`;
  }
  return null;
}
