// The pure decision engine (see docs/engine.md): types, election, transition, plans and effect traits.
export * from './types';
export { STALE_SYNC_WAIT_MS, electMaster, ineligibility, newestMemberVersion, raisedPriority, staleMembersOutranking, type ElectionResult, type Ineligibility } from './election';
export { emptyPersistedState, failureRecordsBroadcast, initialState, mergeFailureRecords, sameRing, transition } from './engine';
export { carryOver, isStateStep } from './plan';
export { EFFECT_TRAITS, cancelsInFlight, refusal, resultEvent, traitsOf, type Attempt, type EffectTraits, type Refusal } from './effect-traits';
export { nameMaster, type MasterNaming } from './election';
export { nextPlan, type OwedStep } from './plan';
export { fenceSafety, fenceWindowOf, pendingFences, type FenceSafety, type PendingFence } from './fencing';
