// What a newer plan must carry over from an older plan that had not finished.
//
// The actions' PlanRunner drops the not-started steps of a plan when a newer plan is
// submitted. Many engine decisions produce small plans that do not restate the role (a
// persistState after learning failure records, a broadcast on a new ring): submitted as they
// are, they would cancel e.g. the rest of a takeover. The daemon therefore submits
// `carryOver(notStarted, next)` instead of `next`.
import type { Effect, EffectType } from './types';

/** Steps that set the node's role state; a newer plan that has any of them restates that state. */
const STATE_STEPS: ReadonlySet<EffectType> = new Set<EffectType>([
  'removeRelocatedLock',
  'addClusterIp',
  'createServiceLock',
  'startService',
  'stopService',
  'removeServiceLock',
  'removeClusterIp',
]);

export function isStateStep(effect: Effect): boolean {
  return STATE_STEPS.has(effect.type);
}

/**
 * The plan to submit: the older plan's not-started steps that are still owed, then `next`.
 * - State steps are dropped only when `next` has state steps itself (a role change restates the
 *   whole state); otherwise they are kept, so a takeover is never cut short by a small plan.
 * - Everything else is a commitment the engine's state already reflects (records broadcast,
 *   failures reported, timers, raised priority, VM suspend/verdicts) and is always kept.
 *   A `startService` with failed nodes dropped by a role change loses its restore, see
 *   docs/engine.md ("Known limits").
 * - Of the `persistState` steps only the newest is kept (it holds the newest state).
 */
export function carryOver(notStarted: readonly Effect[], next: readonly Effect[]): Effect[] {
  const nextRestates = next.some(isStateStep);
  const nextPersists = next.some((e) => e.type === 'persistState');
  const kept = notStarted.filter((e) => {
    if (e.type === 'persistState') return !nextPersists;
    return !(nextRestates && isStateStep(e));
  });
  return [...kept, ...next];
}
