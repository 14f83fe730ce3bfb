import { describe, expect, it } from 'vitest';
import { validatePersistedState } from '../../../src/daemon/persisted-state';

const base = { lastRole: 'suspended', ringId: { nodeId: 2, seq: 8 }, lastQuorateSeq: 4, suspendedVms: ['a'], suspendedAfterSeq: 4, failureRecords: {} };

describe('validatePersistedState', () => {
  it('reads state files written before the suspend count and claimed versions existed', () => {
    expect(validatePersistedState({ ...base, suspendRequested: true })).toMatchObject({ suspendsPending: 1, claimedVersion: null });
    expect(validatePersistedState({ ...base, suspendRequested: false })).toMatchObject({ suspendsPending: 0, claimedVersion: null });
  });

  it('reads the current shape and refuses a missing or negative suspend count, naming the field', () => {
    expect(validatePersistedState({ ...base, suspendsPending: 2, claimedVersion: { by: 4, version: 3 } })).toMatchObject({ suspendsPending: 2, claimedVersion: { by: 4, version: 3 } });
    expect(() => validatePersistedState(base)).toThrow(/suspendsPending/);
    expect(() => validatePersistedState({ ...base, suspendsPending: -1 })).toThrow(/suspendsPending/);
  });

  it('takes the engine\'s -1 "suspended before ever quorate" (a first start without corosync), nothing below', () => {
    const state = { ...base, suspendsPending: 1, lastQuorateSeq: null, suspendedAfterSeq: -1 };
    expect(validatePersistedState(state)).toMatchObject({ suspendedAfterSeq: -1 });
    expect(() => validatePersistedState({ ...state, suspendedAfterSeq: -2 })).toThrow(/suspendedAfterSeq/);
  });
});
