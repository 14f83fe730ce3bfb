// Types of the pure decision engine: what goes in (events), what comes out (effects), and the
// state carried between decisions. Everything here is plain data so that a decision can be
// logged, persisted, replayed in the simulator and compared in tests.

export type Role = 'master' | 'slave' | 'suspended' | 'unknown';

import type { QuorumEvent, RingId } from '../corosync/bindings';

// The ring id and the quorum report are the corosync binding's own types (one declaration each).
export type { QuorumEvent, RingId };

/** One configured node as the engine needs it (the daemon maps the config module's view to this). */
export interface NodeInfo {
  nodeId: number;
  ip: string;
  /** undefined when the node's `prio` is missing or unparsable: such a node is never master. */
  prio: number | undefined;
  replication: boolean;
  /** `standby: on` in its nodelist entry: never elected master (operations.ts). Absent: off. */
  standby?: boolean;
}

/** The local corosync.conf as far as decisions are concerned. */
export interface ClusterView {
  configVersion: number;
  nodes: NodeInfo[];
  /** TakeoverDelay from vmmgr.conf in milliseconds; 0 = take over at once. */
  takeoverDelayMs: number;
  /** `corolistener { maintenance: on }`: every listener watches but takes no action (operations.ts). Absent: off. */
  maintenance?: boolean;
}

/**
 * Failure records: for each node reported failed by some master, the highest ring seq at which
 * that happened. A node whose VMs were suspended after quorate ring S knows they were restored
 * elsewhere iff some record for it has seq > S (see docs/engine.md, "VM resume safety").
 */
export type FailureRecords = Record<number, number>;

/** What survives a daemon restart (written atomically by the daemon on `persistState`). */
export interface PersistedState {
  lastRole: Role;
  ringId: RingId | null;
  /** Seq of the last ring in which this node was quorate (null: never seen quorate). */
  lastQuorateSeq: number | null;
  /** VMs this node suspended on quorum loss and has not resumed or discarded yet. */
  suspendedVms: string[];
  /** lastQuorateSeq at the first quorum loss since the VMs were last settled (null: nothing pending). */
  suspendedAfterSeq: number | null;
  /**
   * suspendVms effects emitted whose result (vmsSuspended) has not come back yet: a count, since
   * quorum can be lost again before the first result is in, and the VM verdict must wait for both.
   */
  suspendsPending: number;
  failureRecords: FailureRecords;
  /**
   * A config_version another node may have written without it reaching us yet: we elected that
   * node, and its takeover raises its priority (writing the version after ours). Our own next
   * write skips past it, so two quick takeovers never write the same version (docs/engine.md,
   * "Claimed versions"). Null: nothing outstanding. Persisted: the other node's file outlives
   * our process, and a daemon restart between the two takeovers must not forget it.
   */
  claimedVersion: ClaimedVersion | null;
  /**
   * Self-fencing (src/engine/fencing.ts): the fence window of each node as it announced it (ms
   * from its departure until its watchdog has certainly reset it; 0: no watchdog there).
   * Absent in state files written before fencing existed.
   */
  fenceWindows?: Record<number, number>;
  /** While master: nodes whose restore waits for their fence window, with when they left (ms). */
  fencePending?: Record<number, number>;
}

/** `version` may have been written by `by` (the master we elected), unseen here so far. */
export interface ClaimedVersion {
  by: number;
  version: number;
}

// ---- events (inputs). Every event carries `now` (ms, daemon's clock); the engine never reads a clock.

export interface ConfigEvent {
  type: 'config';
  now: number;
  view: ClusterView;
}

/** The corosync binding's 'quorum' event, as the engine receives it. */
export type QuorumChangeEvent = { type: 'quorum'; now: number } & QuorumEvent;

/** cmap runtime.members.ID.config_version for the current members (partial updates are merged). */
export interface ConfigVersionsEvent {
  type: 'configVersions';
  now: number;
  versions: Record<number, number>;
}

/** The daemon lost its corosync connection (library error, fd hang-up): same as not quorate. */
export interface DisconnectedEvent {
  type: 'disconnected';
  now: number;
}

export interface TimerFiredEvent {
  type: 'timerFired';
  now: number;
  id: string;
}

/** Result of a suspendVms effect: the VMs the daemon actually suspended (possibly none). */
export interface VmsSuspendedEvent {
  type: 'vmsSuspended';
  now: number;
  vms: string[];
  /** The suspend failed (the VMs listed are those it did suspend first): not every VM is confirmed suspended. */
  failed?: boolean;
}

/** A peer's failure records, received over CPG (sent by its broadcastFailureRecords effect). */
export interface FailureRecordsEvent {
  type: 'failureRecords';
  now: number;
  from: number;
  ringId: RingId;
  records: FailureRecords;
  /** The sender's claimed version, if any (see ClaimedVersion). */
  claim?: ClaimedVersion;
  /** The fence windows the sender knows (its own included), see PersistedState.fenceWindows. */
  fenceWindows?: Record<number, number>;
}

/**
 * A member holds another corosync.conf with the same config_version as ours (seen by the
 * config distribution in its offer or hello). `peerRole` and `peerMaster` are the sender's role
 * and the master its engine named when it sent it (null: none); `peerSince`, when it was master,
 * the ring seq since which it was (EngineState.namedSince).
 */
export interface ConfigConflictEvent {
  type: 'configConflict';
  now: number;
  from: number;
  version: number;
  peerRole: Role;
  peerMaster: number | null;
  peerSince: number | null;
}

/**
 * The cluster IP's device lost or regained its carrier (keepalived's `track_interface`).
 * `confirmMs`: how long corosync takes to declare a silent member gone (+10%), the time after the
 * carrier's return when a membership corosync has not changed counts as confirmed.
 */
export interface CarrierEvent {
  type: 'carrier';
  now: number;
  dev: string;
  up: boolean;
  confirmMs: number;
}

/** How an attempt of addClusterIp ended: the address is held here, or why not. */
export interface ClusterIpEvent {
  type: 'clusterIp';
  now: number;
  held: boolean;
  why?: string;
}

/** Listeners joined the CPG group (they missed what was broadcast on this ring before them). */
export interface GroupJoinedEvent {
  type: 'groupJoined';
  now: number;
  nodeIds: number[];
}

/**
 * A member announced over CPG that it holds no master duties any more: it stepped down while
 * quorate (cluster IP removed, VMmanager stopped, locks removed). The node elected after it waits
 * for this before it takes over (the ordered hand-over, operations.ts).
 */
export interface ReleasedEvent {
  type: 'released';
  now: number;
  from: number;
}

/** A member announced over CPG that it is master (after its takeover, and once per ring while it is). */
export interface TakenOverEvent {
  type: 'takenOver';
  now: number;
  from: number;
}

/** What an operator asks of the cluster (src/cli over the control socket; operations.ts decides). */
export type OperatorCommand =
  | { kind: 'switchover'; target: number }
  | { kind: 'prio'; nodeId: number; prio: number }
  | { kind: 'replication'; nodeId: number; on: boolean }
  | { kind: 'standby'; nodeId: number; on: boolean }
  | { kind: 'maintenance'; on: boolean; force?: boolean }
  | { kind: 'nodeAdd'; nodeId: number; address: string; prio?: number; replication?: boolean; name?: string }
  | { kind: 'nodeRemove'; nodeId: number };

/** An operator command for this node's engine; `id` pairs it with its commandResult. */
export interface CommandEvent {
  type: 'command';
  now: number;
  id: string;
  command: OperatorCommand;
}

/** One corosync.conf edit an operator command decided (`node` keys of one nodelist entry, or the corolistener section). */
export type ConfigEdit =
  | { nodeId: number; key: 'prio' | 'replication' | 'standby'; value: string }
  | { section: 'corolistener'; key: 'maintenance'; value: string }
  | { addNode: { nodeId: number; address: string; prio?: number; replication?: boolean; name?: string } }
  | { removeNode: number };

export type EngineEvent =
  | FencingEvent
  | DutyReleasedEvent
  | CarrierEvent
  | ReleasedEvent
  | TakenOverEvent
  | CommandEvent
  | ClusterIpEvent
  | GroupJoinedEvent
  | ConfigConflictEvent
  | ConfigEvent
  | QuorumChangeEvent
  | ConfigVersionsEvent
  | DisconnectedEvent
  | TimerFiredEvent
  | VmsSuspendedEvent
  | FailureRecordsEvent;

// ---- effects (outputs): idempotent "make it so" steps, executed in order by src/actions.

export type Effect =
  | { type: 'removeRelocatedLock' }
  | { type: 'addClusterIp' }
  | { type: 'createServiceLock' }
  | { type: 'startService'; failedNodes: number[] }
  | { type: 'raisePriority'; nodeId: number; prio: number; configVersion: number }
  | { type: 'publishConfig'; configVersion: number }
  | { type: 'reportNodesFailed'; nodeIds: number[] }
  | { type: 'broadcastFailureRecords'; ringId: RingId; records: FailureRecords; claim?: ClaimedVersion; fenceWindows?: Record<number, number> }
  | { type: 'stopService' }
  | { type: 'removeServiceLock' }
  | { type: 'removeClusterIp' }
  /** Carrier lost: the address goes at once, beside the plan (the step in flight may wait for seconds). */
  | { type: 'removeClusterIpNow' }
  /** Re-read corosync.conf: a member has a newer config_version than our view (our file may have been replaced). */
  | { type: 'readConfig' }
  | { type: 'suspendVms' }
  | { type: 'resumeVms'; vms: string[] }
  | { type: 'reportVmsDiscarded'; vms: string[] }
  | { type: 'startTimer'; id: string; ms: number }
  | { type: 'persistState'; state: PersistedState }
  /** After stepping down while quorate: tell the members (CPG) that no master duty is held here any more. */
  | { type: 'announceRelease' }
  /**
   * This node is master (after its takeover: cluster IP held, VMmanager started; and once per ring
   * while it is): tell the members. `from`: the old master whose release the takeover waited for.
   */
  | { type: 'announceTakeover'; from: number | null }
  /** An operator's edit of corosync.conf, written with `configVersion` (then reloaded and published). */
  | { type: 'editConfig'; edits: ConfigEdit[]; configVersion: number; commandId: string; summary: string; masterBefore: number | null; masterAfter: number | null }
  /** The answer to an operator command that needs no edit (refused, or nothing to change). */
  | { type: 'commandResult'; commandId: string; ok: boolean; message: string };

export type EffectType = Effect['type'];

export interface QuorumState {
  quorate: boolean;
  ringId: RingId | null;
  members: number[];
}

export interface EngineState {
  localNodeId: number;
  role: Role;
  /** Who the election names in the current view (null: none, or this node cannot know yet). */
  masterId: number | null;
  /** Ring seq of the decision since which this node names `masterId` (null with no master). */
  namedSince: number | null;
  config: ClusterView | null;
  /** null until the first quorum event (or disconnection) after start. */
  quorum: QuorumState | null;
  configVersions: Record<number, number>;
  /** Pending TakeoverDelay timer id, or null. */
  takeoverTimer: string | null;
  /** Counter making timer ids unique without randomness. */
  timerSeq: number;
  /** The ring `recordsFrom` is about (the current one, or a newer one announced early by CPG). */
  recordsRing: RingId | null;
  /** Members whose failure records for `recordsRing` have been received (this node included). */
  recordsFrom: number[];
  /** Ring seq in which this node last broadcast its failure records (once per ring, and on change). */
  recordsSentSeq: number | null;
  /** Last publishConfig while master: not repeated for the same ring and version. */
  publishedAt: { seq: number; version: number } | null;
  /** While master: the membership at the last decision (who left since is reported failed). */
  servedMembers: number[] | null;
  /**
   * A same-version conflict reported by the distribution, until our file's version passes it:
   * the master resolves it by raising again with a higher version (see resolveConflict).
   */
  conflict: ConfigConflict | null;
  /** The cluster IP's device (carrier tracking); see src/engine/link.ts. */
  link: LinkState;
  /**
   * Whether the last addClusterIp succeeded and no removal was decided since: VMmanager is never
   * started here without the cluster IP (another host may hold it).
   */
  clusterIp: { held: boolean; why: string };
  /** Role persisted by the previous daemon run; consulted by the first decision only. */
  restoredRole: Role | null;
  persisted: PersistedState;
  lastEventAt: number | null;
  /** Self-fencing (src/engine/fencing.ts). */
  fencing: FencingState;
  /** The member that announced it is master and has not released since (operations.ts). Absent: none known. */
  knownMaster?: number | null;
  /** While elected and not master yet: the old master whose release the takeover waits (or waited) for. */
  handoverFrom?: number | null;
  /** The last config_version an operator command wrote here (a second command writes above it). */
  editedVersion?: number;
}

export interface LinkState {
  /** Device name, once a carrier event named it. */
  dev: string | null;
  carrier: boolean;
  /**
   * Set when the carrier went while this node was master or held the cluster IP: the IP is taken
   * back only once corosync confirms the membership after the carrier's return (a new ring), or
   * once `confirmMs` has passed since `backAt` (null: not back yet).
   */
  hold: { ring: RingId | null; backAt: number | null; confirmMs: number; timer: string | null } | null;
}

/** What this node knows of the other files with its config_version (see resolveConflict). */
export interface ConfigConflict {
  version: number;
  /** The members that reported one (most recent last). */
  from: number[];
  /** Masters that reported it themselves: the one that has been master longest (then lowest nodeid). */
  master: { id: number; since: number | null } | null;
  /** Reported by a member without a master, or following us: the other file has no master of its own. */
  masterless: boolean;
  /** Slaves of these masters reported it: their master's own report decides. */
  followers: number[];
}

export interface Decision {
  state: EngineState;
  effects: Effect[];
  /**
   * How the interpreter orders these effects with the steps an older plan still owes (plan.ts):
   * 'append' (default) after them; 'clusterIpFirst' before them, replacing their cluster IP steps.
   */
  order?: 'append' | 'clusterIpFirst';
  /** One line for the log: why the node is in its role and what the plan does. */
  explanation: string;
}

// ---- self-fencing (src/engine/fencing.ts, docs/engine.md "Self-fencing")

/** This node's watchdog (vmmgr.conf WatchdogDevice, WatchdogTimeout). */
export interface WatchdogSettings {
  /** The device resets the node this long after its last feed. */
  timeoutMs: number;
  /**
   * Added to the timeout in the fence window this node announces: covers how much later than the
   * master this node can learn that it lost quorum (corosync's token + consensus) and slack.
   */
  marginMs: number;
}

/**
 * The daemon's fencing inputs: the watchdog (null: none, fencing off here) and whether quorum is
 * the risky two-node kind (`two_node: 1` without a registered qdevice: both sides of a split stay
 * quorate). Sent at start and whenever either changes.
 */
export interface FencingEvent {
  type: 'fencing';
  now: number;
  watchdog: WatchdogSettings | null;
  twoNodeWithoutQdevice: boolean;
}

/** A teardown step confirmed done: the cluster IP is gone, or VMmanager is stopped. */
export interface DutyReleasedEvent {
  type: 'dutyReleased';
  now: number;
  duty: 'clusterIp' | 'service';
}

export interface FencingState {
  watchdog: WatchdogSettings | null;
  twoNodeWithoutQdevice: boolean;
  /** When each configured node not in our membership was last seen leaving it (ms, our clock). */
  departedAt: Record<number, number>;
  /** The timer that wakes the engine when the earliest pending fence window ends. */
  timer: { id: string; at: number } | null;
  /** Duties this node may still hold (not confirmed released since it last took or inherited them). */
  held: { clusterIp: boolean; service: boolean };
  /** The last suspend result was a failure: not every VM is confirmed suspended. */
  suspendFailed: boolean;
}
