// What a newer plan must carry over from an older plan that had not finished.
//
// The actions' PlanRunner drops the not-started steps of a plan when a newer plan is
// submitted. Many engine decisions produce small plans that do not restate the role (a
// persistState after learning failure records, a broadcast on a new ring): submitted as they
// are, they would cancel e.g. the rest of a takeover. The interpreter therefore submits
// `nextPlan(owed, decision)` instead of the decision's effects alone.
import { traitsOf } from './effect-traits';
import type { Decision, Effect } from './types';

export function isStateStep(effect: Effect): boolean {
  return traitsOf(effect).roleState;
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

/** A step an older plan still owes: not run yet, in flight, or waiting in its retry backoff. */
export interface OwedStep {
  effect: Effect;
  retrying: boolean;
}

/**
 * The plan the interpreter submits for a decision (its at-once effects run beside it):
 * - 'append': carryOver. The owed steps go first, unless one of them is failing (waiting in its
 *   retry backoff): then the decision's steps go first, so a failing step never delays a later
 *   decision; the owed steps keep their order among themselves.
 * - 'clusterIpFirst' (the link's decisions): the decision's cluster IP steps before every owed
 *   step, which are all kept except the owed cluster IP steps they replace.
 */
export function nextPlan(owed: readonly OwedStep[], decision: Pick<Decision, 'effects' | 'order'>): Effect[] {
  const effects = decision.effects.filter((e) => !traitsOf(e).atOnce);
  const owedEffects = owed.map((s) => s.effect);
  if (decision.order === 'clusterIpFirst') return [...effects, ...owedEffects.filter((e) => !traitsOf(e).clusterIpStep)];
  const merged = carryOver(owedEffects, effects);
  const kept = merged.slice(0, merged.length - effects.length);
  return owed.some((s) => s.retrying) ? [...effects, ...kept] : merged;
}
