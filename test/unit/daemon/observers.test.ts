import { describe, expect, it } from 'vitest';
import type { Logger } from 'pino';
import { onDecision, repeatsDecision, type Observers } from '../../../src/daemon/observers';
import { initialState } from '../../../src/engine';
import type { Decision, EngineEvent, EngineState } from '../../../src/engine/types';

const slave = (masterId: number | null): EngineState => ({ ...initialState(2), role: 'slave', masterId });
const records: EngineEvent = { type: 'failureRecords', now: 0, from: 3, ringId: { nodeId: 1, seq: 8 }, records: {} } as unknown as EngineEvent;
const quorum: EngineEvent = { type: 'quorum', now: 0, quorate: true, ringId: { nodeId: 1, seq: 8 }, members: [1, 2, 3] };
const decided = (state: EngineState, explanation: string, effects: Decision['effects'] = []): Decision => ({ state, effects, explanation });

function observe(): { o: Observers; lines: Array<{ level: string; msg: string }> } {
  const lines: Array<{ level: string; msg: string }> = [];
  const logger = { info: (_: unknown, msg: string) => lines.push({ level: 'info', msg }), debug: (_: unknown, msg: string) => lines.push({ level: 'debug', msg }) } as unknown as Logger;
  const desk = { roleChanged: () => {}, check: () => {}, lastHandover: undefined };
  return { o: { logger, emit: () => undefined, history: () => undefined, metrics: () => undefined, desk } as unknown as Observers, lines };
}

describe('decision log lines', () => {
  it('logs at info what changes something or says something new, at debug a repeat of the decision before', () => {
    const { o, lines } = observe();
    const on = onDecision(o);
    const s = slave(1);
    const same = 'slave (master 1): a higher-priority member is master';
    on(decided(s, 'slave (master 1): waiting for failure records'), quorum, s);
    on(decided(s, same), records, s); // says something new
    on(decided(s, same), records, s); // a repeat
    on(decided(s, same), records, s);
    on(decided(s, same, [{ type: 'persistState', state: s.persisted }]), records, s); // has effects
    on(decided(s, same), quorum, s); // a membership report
    on(decided(slave(3), same), records, s); // the master changed
    expect(lines.map((l) => l.level)).toEqual(['info', 'info', 'debug', 'debug', 'info', 'info', 'info']);
  });

  it('never calls a role change a repeat', () => {
    const master = { ...slave(null), role: 'master' as const };
    expect(repeatsDecision(decided(master, 'x'), records, slave(null), 'x')).toBe(false);
    expect(repeatsDecision(decided(slave(null), 'x'), records, slave(null), 'x')).toBe(true);
  });
});
