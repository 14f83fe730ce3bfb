// Parts 4 and 5: what a running listener costs.
//   idle  settled listeners, nothing happening: CPU time, wake-ups, RSS, strace (./idle.ts)
//   soak  many membership changes: RSS, V8 heap after GC and fds over time (./soak.ts)
export { idlePart } from './idle';
export { soakPart } from './soak';
