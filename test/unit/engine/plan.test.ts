import { describe, expect, it } from 'vitest';
import { carryOver, emptyPersistedState, type Effect } from '../../../src/engine';

const persist = (lastRole: 'master' | 'slave'): Effect => ({ type: 'persistState', state: { ...emptyPersistedState(), lastRole } });
const takeoverRest: Effect[] = [
  { type: 'createServiceLock' },
  { type: 'startService', failedNodes: [8] },
  { type: 'raisePriority', nodeId: 2, prio: 101, configVersion: 2 },
  { type: 'publishConfig', configVersion: 2 },
  persist('master'),
];

describe('carryOver', () => {
  it('a small plan does not cut a takeover short', () => {
    const next: Effect[] = [{ type: 'broadcastFailureRecords', ringId: { nodeId: 2, seq: 8 }, records: {} }];
    expect(carryOver(takeoverRest, next)).toEqual([...takeoverRest, ...next]);
  });

  it('a role change drops the old state steps but keeps the commitments', () => {
    const stepDown: Effect[] = [{ type: 'stopService' }, { type: 'removeServiceLock' }, { type: 'removeClusterIp' }, { type: 'suspendVms' }, persist('slave')];
    expect(carryOver(takeoverRest, stepDown)).toEqual([{ type: 'raisePriority', nodeId: 2, prio: 101, configVersion: 2 }, { type: 'publishConfig', configVersion: 2 }, ...stepDown]);
  });

  it('keeps only the newest persistState', () => {
    const next: Effect[] = [{ type: 'reportNodesFailed', nodeIds: [4] }, persist('master')];
    const out = carryOver([{ type: 'resumeVms', vms: ['a'] }, persist('slave')], next);
    expect(out).toEqual([{ type: 'resumeVms', vms: ['a'] }, ...next]);
  });

  it('an empty next plan keeps everything', () => {
    expect(carryOver(takeoverRest, [])).toEqual(takeoverRest);
  });
});
