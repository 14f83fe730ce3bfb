// What listens to the interpreter (its onDecision / onStep hooks, docs/design.md §2): the log,
// the daemon's events, the decision history, the operator desk and the metrics. None of them
// decides anything; each records or reports what the engine decided and what the node did.
import type { Logger } from 'pino';
import type { StepOutcome } from '../actions/plan-runner';
import type { Decision, Effect, EngineEvent, EngineState } from '../engine/types';
import { errorText } from './corosync-session';
import type { History } from './history';
import type { Metrics } from './metrics';
import type { OperatorDesk } from './operator-desk';
import type { CorolistenerEvents } from './ports';

export interface Observers {
  logger: Logger;
  emit<K extends keyof CorolistenerEvents>(event: K, payload: CorolistenerEvents[K][0]): unknown;
  history(): History | undefined;
  metrics(): Metrics | undefined;
  desk: OperatorDesk;
}

/**
 * Whether a decision only repeats the one before: no effects, the same role and master, the same
 * explanation, and not a membership report (every quorum or disconnection decision is logged).
 * After a membership change each other member's failure records (and, after a takeover, each
 * member's config version) arrive one by one: ~50 decisions per listener in a 16-node cluster,
 * most saying "slave (master N): a higher-priority member is master" again. Those go to the debug
 * level; the decision history (`corolistener history`) keeps every one.
 */
export function repeatsDecision(decision: Decision, event: EngineEvent, before: EngineState, previousExplanation: string | undefined): boolean {
  const s = decision.state;
  return (
    decision.effects.length === 0 &&
    event.type !== 'quorum' &&
    event.type !== 'disconnected' &&
    s.role === before.role &&
    s.masterId === before.masterId &&
    decision.explanation === previousExplanation
  );
}

export function onDecision(o: Observers): (decision: Decision, event: EngineEvent, before: EngineState) => void {
  let previousExplanation: string | undefined;
  return (decision, event, before) => {
    const s = decision.state;
    const repeat = repeatsDecision(decision, event, before, previousExplanation);
    previousExplanation = decision.explanation;
    o.logger[repeat ? 'debug' : 'info'](
      {
        event: 'decision',
        trigger: event.type,
        role: s.role,
        master: s.masterId,
        members: s.quorum?.members ?? [],
        quorate: s.quorum?.quorate ?? false,
        explanation: decision.explanation,
        effects: decision.effects.map((e) => e.type),
      },
      decision.explanation,
    );
    o.emit('decision', { role: s.role, masterId: s.masterId, effects: decision.effects, explanation: decision.explanation });
    o.history()?.decision(decision, event, before);
    const metrics = o.metrics();
    metrics?.decision(decision, before);
    if (s.role !== before.role) {
      o.emit('role', { role: s.role, previous: before.role });
      o.desk.roleChanged(before.role, s.role);
    }
    o.desk.check();
    metrics?.handoverGap(o.desk.lastHandover?.gapMs ?? null);
  };
}

export function onStep(o: Observers): (r: { effect: Effect; outcome: StepOutcome; durationMs: number; attempts: number; error?: unknown }) => void {
  return (r) => {
    o.history()?.step(r);
    o.metrics()?.step(r.effect, r.outcome, r.durationMs);
    o.desk.stepDone(r.effect, r.outcome === 'ok');
    const entry = { event: 'step', effect: r.effect.type, outcome: r.outcome, durationMs: Math.round(r.durationMs * 10) / 10, attempts: r.attempts };
    if (r.outcome === 'ok') o.logger.info(entry, `${r.effect.type}: ok`);
    else o.logger.error({ ...entry, error: errorText(r.error) }, `${r.effect.type}: ${r.outcome}`);
  };
}
