// What the engine's unit tests share: feeding a script of events to the real transition with
// every input state frozen (a mutation throws), and the events they are written with.
import { transition, type Effect, type EngineEvent, type EngineState } from '../../../src/engine';

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Feed events in order; every input state is frozen, so any mutation of it throws. */
export function run(state: EngineState, events: EngineEvent[]): { state: EngineState; effects: Effect[][]; explanations: string[] } {
  const effects: Effect[][] = [];
  const explanations: string[] = [];
  for (const e of events) {
    const d = transition(deepFreeze(state), e);
    state = d.state;
    effects.push(d.effects);
    explanations.push(d.explanation);
  }
  return { state, effects, explanations };
}

/** Effect types, without the write-ahead state and the failure-record broadcasts that come with most decisions. */
export const types = (effects: Effect[]): string[] => effects.filter((e) => e.type !== 'persistState' && e.type !== 'broadcastFailureRecords').map((e) => e.type);
export const quorum = (seq: number, members: number[], quorate = true): EngineEvent => ({ type: 'quorum', now: seq, quorate, ringId: { nodeId: members[0] ?? 0, seq }, members });
export const versions = (ids: number[], v = 1): EngineEvent => ({ type: 'configVersions', now: 0, versions: Object.fromEntries(ids.map((id) => [id, v])) });
