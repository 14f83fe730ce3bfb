// What the daemon needs from the world, as interfaces: the node's actions, the clock, the
// carrier tracker. The real implementations are injected by default (NodeActions, the system
// clock, LinkMonitor); tests and the simulator pass fakes.
import type { CommandContext } from '../actions/command-context';
import type { ResumeResult, SuspendResult } from '../actions/vm-control';
import type { Effect, Role } from '../engine/types';

/** What the daemon does to the node; NodeActions implements it, tests record calls. */
export interface DaemonActions {
  /**
   * A plan that takes the cluster IP was just submitted: start the read-only checks of
   * addClusterIp now (they run while the state is written ahead). Optional; never throws.
   */
  prepareClusterIp?(): void;
  addClusterIp(signal?: AbortSignal): Promise<unknown>;
  removeClusterIp(signal?: AbortSignal): Promise<unknown>;
  createServiceLock(): Promise<unknown>;
  removeServiceLock(): Promise<unknown>;
  removeStaleRelocatedLock(): Promise<unknown>;
  startService(ctx: CommandContext, signal?: AbortSignal): Promise<unknown>;
  stopService(ctx: CommandContext, signal?: AbortSignal): Promise<unknown>;
  suspendVms(ctx: CommandContext, call?: { signal?: AbortSignal }): Promise<SuspendResult>;
  resumeVms(vms: readonly string[], ctx: CommandContext, call?: { signal?: AbortSignal }): Promise<ResumeResult>;
  nodeFailed(ctx: CommandContext, signal?: AbortSignal): Promise<unknown>;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** What the daemon needs of a LinkMonitor (tests pass a fake). */
export interface LinkMonitorLike {
  readonly dev: string;
  readonly carrier: boolean;
  on(event: 'carrier', listener: (up: boolean) => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  start(): void;
  close(): void;
}

export interface DecisionEvent {
  role: Role;
  masterId: number | null;
  effects: Effect[];
  explanation: string;
}

export interface CorolistenerEvents {
  role: [{ role: Role; previous: Role }];
  /**
   * Nodes the master found failed. `atTakeover: false`: members that left while this node was
   * master, after NodeFailedCommand ran for them. `atTakeover: true`: the nodes missing at this
   * node's takeover, after VMmanager was started with them in COROLISTENER_FAILED_NODES; no
   * NodeFailedCommand runs for these (VMmanager restores them from that list, and running both
   * could restore them twice). Not emitted again when a restarted daemon skips the start.
   */
  nodesFailed: [{ nodeIds: number[]; atTakeover: boolean }];
  /**
   * VMs this node suspended on quorum loss that a master restored elsewhere meanwhile: they stay
   * suspended here and VMmanager (the node agent) discards these copies; never resumed.
   */
  vmsDiscarded: [{ vms: string[] }];
  decision: [DecisionEvent];
}
