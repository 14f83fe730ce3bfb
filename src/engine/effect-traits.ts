// What the interpreter needs to know about each effect, in one table, and the engine's answers
// to the questions it asks while running a plan (may this step run now? does a newer decision
// cancel the step in flight? which result goes back to the engine as an event?). The
// interpreter (src/daemon/interpreter.ts) holds no policy of its own: it asks here.
import { linkRefusal } from './link';
import type { Effect, EffectType, EngineEvent, EngineState } from './types';

export interface EffectTraits {
  /** Sets the node's role state: a newer plan with any such step restates it (plan.ts carryOver). */
  readonly roleState: boolean;
  /** Takes on master duties: a node that is no longer master cancels one in flight. */
  readonly masterDuty: boolean;
  /** Would run VMmanager here: only while the engine knows the cluster IP is held. */
  readonly needsClusterIp: boolean;
  /** Adds or removes the cluster IP (replaced by the steps of a 'clusterIpFirst' decision). */
  readonly clusterIpStep: boolean;
  /** Runs at once, beside the plan, instead of in it. */
  readonly atOnce: boolean;
  /**
   * Retried for as long as its plan stands (capped backoff) instead of the default attempts: a
   * master keeps trying to take the cluster IP, since the holder it found (an old master dropping
   * it right now) may let go any time; stepping down drops the step (carryOver).
   */
  readonly retryWhilePlanned: boolean;
}

const PLAIN: EffectTraits = { roleState: false, masterDuty: false, needsClusterIp: false, clusterIpStep: false, atOnce: false, retryWhilePlanned: false };

export const EFFECT_TRAITS: Readonly<Record<EffectType, EffectTraits>> = {
  removeRelocatedLock: { ...PLAIN, roleState: true, masterDuty: true },
  addClusterIp: { ...PLAIN, roleState: true, masterDuty: true, clusterIpStep: true, retryWhilePlanned: true },
  createServiceLock: { ...PLAIN, roleState: true, masterDuty: true, needsClusterIp: true },
  startService: { ...PLAIN, roleState: true, masterDuty: true, needsClusterIp: true },
  stopService: { ...PLAIN, roleState: true },
  removeServiceLock: { ...PLAIN, roleState: true },
  removeClusterIp: { ...PLAIN, roleState: true, clusterIpStep: true },
  removeClusterIpNow: { ...PLAIN, atOnce: true },
  readConfig: { ...PLAIN, atOnce: true },
  raisePriority: PLAIN,
  publishConfig: PLAIN,
  reportNodesFailed: PLAIN,
  broadcastFailureRecords: PLAIN,
  suspendVms: PLAIN,
  resumeVms: PLAIN,
  reportVmsDiscarded: PLAIN,
  startTimer: PLAIN,
  persistState: PLAIN,
  // operations.ts: the hand-over's announcements are commitments, in order after the steps before them
  announceRelease: PLAIN,
  // not a role step (a master's once-per-ring announcement must not restate its takeover), but
  // refused once the node is no longer master (see refusal)
  announceTakeover: { ...PLAIN, masterDuty: true },
  editConfig: PLAIN,
  commandResult: { ...PLAIN, atOnce: true },
};

export function traitsOf(effect: Effect): EffectTraits {
  return EFFECT_TRAITS[effect.type];
}

export interface Refusal {
  reason: string;
  /** Retried (the step waits in its backoff) or failed at once. */
  retryable: boolean;
}

/** Why `effect` must not run now in this state, or null. Asked right before each attempt. */
export function refusal(s: EngineState, effect: Effect, now: number): Refusal | null {
  if (effect.type === 'addClusterIp') {
    const reason = linkRefusal(s, now);
    if (reason !== null) return { reason, retryable: true };
  }
  if (effect.type === 'announceTakeover' && s.role !== 'master') return { reason: 'not done: no longer master', retryable: false };
  if (traitsOf(effect).needsClusterIp && !s.clusterIp.held) {
    return { reason: `not done: the cluster IP is not held here (${s.clusterIp.why})`, retryable: false };
  }
  return null;
}

/** Whether a decision that left the engine in `s` cancels the step in flight (it must not wait for a hung command). */
export function cancelsInFlight(s: EngineState, inFlight: Effect): boolean {
  return traitsOf(inFlight).masterDuty && s.role !== 'master';
}

/** What an attempt at an effect ended with, as the interpreter saw it. */
export type Attempt = { ok: true; result: unknown } | { ok: false; error: unknown };

/**
 * The event an attempt's result becomes, for the effects whose result the engine needs, or null.
 * suspendVms always reports (possibly no VM): the verdict on the VMs waits for it; removeClusterIp
 * and stopService report success (the fence safety of a node without quorum waits for them).
 */
export function resultEvent(effect: Effect, attempt: Attempt, now: number): EngineEvent | null {
  switch (effect.type) {
    case 'addClusterIp':
      return attempt.ok ? { type: 'clusterIp', now, held: true } : { type: 'clusterIp', now, held: false, why: errorText(attempt.error) };
    case 'suspendVms':
      return attempt.ok ? { type: 'vmsSuspended', now, vms: stringList(attempt.result) } : { type: 'vmsSuspended', now, vms: stringList(doneOf(attempt.error)), failed: true };
    // Teardown confirmed: a node without quorum may feed its watchdog only once both are done (fencing.ts).
    case 'removeClusterIp':
      return attempt.ok ? { type: 'dutyReleased', now, duty: 'clusterIp' } : null;
    case 'stopService':
      return attempt.ok ? { type: 'dutyReleased', now, duty: 'service' } : null;
    default:
      return null;
  }
}

/** The VMs a failed suspend did suspend before failing (VmCommandError.done), if it says. */
function doneOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null && 'done' in error ? error.done : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
