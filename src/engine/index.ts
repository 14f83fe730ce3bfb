// The pure decision engine (see docs/engine.md): types, election, transition, simulator.
export * from './types';
export { STALE_SYNC_WAIT_MS, electMaster, ineligibility, newestMemberVersion, raisedPriority, staleMembersOutranking, type ElectionResult, type Ineligibility } from './election';
export { emptyPersistedState, failureRecordsBroadcast, initialState, mergeFailureRecords, sameRing, transition } from './engine';
export * from './simulator';
export { carryOver, isStateStep } from './plan';
