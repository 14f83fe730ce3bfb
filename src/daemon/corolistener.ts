// The corolistener daemon in-process (DESIGN.md §2): corosync events -> engine -> actions.
//
// Data flows one way. Every corosync event becomes an engine event; the engine decides at once
// (it is pure); the decision is logged and emitted; its effects are submitted to one PlanRunner
// as `carryOver(notStarted, effects)`, so a newer decision supersedes the not-started state
// steps of an older plan but never drops a commitment (docs/engine.md). Results of effects
// that the engine needs come back as events (vmsSuspended, timerFired, config).
//
// Only steps the engine emits are ever run: a restarted daemon on the master gets no
// removeRelocatedLock and no second startService from the engine, and none is added here.
import { EventEmitter } from 'node:events';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { CommandContext, ContextRole } from '../actions/command-context';
import { NodeActions } from '../actions/node-actions';
import { LinkMonitor } from '../actions/link-monitor';
import { PlanRunner, type StepOutcome, type StepReport } from '../actions/plan-runner';
import type { RetryOptions } from '../actions/retry';
import { StateFile, StateFileError } from '../actions/state-file';
import { parseVirshNames, VmCommandError, type ResumeResult, type SuspendResult } from '../actions/vm-control';
import { type DecodedMessage, encodeMessage, MessageError } from '../cluster/envelope';
import { createMessageCodec, FAILURE_RECORDS, type FailureRecordsBody } from '../cluster/messages';
import type { CorosyncConfView } from '../config/corosync-conf-view';
import type { ConfigError } from '../config/config-error';
import { type LoadedCorosyncConf, editCorosyncConf, readCorosyncConf } from '../config/corosync-conf-file';
import { raiseNodePrioAboveOthers } from '../config/corosync-conf-edit';
import { defaultVmmgrConf, readVmmgrConf, type VmmgrConf } from '../config/vmmgr-conf';
import { carryOver } from '../engine/plan';
import { failureRecordsBroadcast, initialState, sameRing, transition } from '../engine/engine';
import type { Effect, EngineEvent, EngineState, PersistedState, RingId, Role } from '../engine/types';
import { VERSION } from '../version';
import { defaultConfigPublisher, localOnlyPublisher } from './default-publisher';
import { startControlSocket, type ControlCommand, type ControlSocketServer } from './control-socket';
import { NativeCorosyncPort, type CorosyncPort, type CorosyncSession } from './corosync-port';
import { buildNodeListReport, clusterViewOf } from './node-report';
import { validatePersistedState } from './persisted-state';
import type { NodeListReport, StatusReport } from './report';
import { ServiceMarker } from './service-marker';

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

/**
 * Tells the other members to take the new corosync.conf (src/cluster/config-publisher.ts is the
 * real one). The optional hooks give it the CPG group: the session, configuration messages and
 * group membership.
 */
export interface ConfigPublisher {
  publish(request: { configVersion: number; corosyncConf: string; localNodeId: number }): Promise<void>;
  /** A corosync session was opened (undefined: it closed). */
  attach?(link: ConfigLink | undefined): void;
  /** A decoded CPG message of a type the daemon does not handle itself; false if not one it knows. */
  onMessage?(from: number, decoded: DecodedMessage): boolean;
  onGroupMembership?(members: number[], joined: number[]): void;
  /** Runs the daemon's own edit of corosync.conf so that no install of a peer's file interleaves. */
  withConfigLock?<T>(edit: () => Promise<T>): Promise<T>;
  /** The daemon stops. */
  close?(): Promise<void>;
}

/** What a ConfigPublisher may use of the daemon while a corosync session is open. */
export interface ConfigLink {
  localNodeId: number;
  send(data: Buffer): Promise<void>;
  reloadConfig(): void;
  /** Whom the engine names master now (null: nobody, or this node is stale). */
  masterId(): number | null;
  /** A new corosync.conf was installed here: re-read it (the engine trusts the file first). */
  configInstalled(): void;
  /**
   * A peer proved with a signed message that it holds this config_version; cmap shows it only
   * after the cluster-wide reload, and until then the engine must not take it for stale.
   */
  peerVersion(nodeId: number, version: number): void;
  /** The engine's role, the master it names and (as master) since which ring, for the other nodes (offers and hellos). */
  localSide(): { role: Role; master: number | null; since: number | null };
  /** A member holds another file with our config_version: the engine decides who raises. */
  configConflict(conflict: { from: number; version: number; peerRole: Role; peerMaster: number | null; peerSince: number | null }): void;
}

export { localOnlyPublisher };

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

/** Steps that take on master duties; a node stepping down may cancel one in flight. */
const MASTER_STEPS: ReadonlySet<Effect['type']> = new Set<Effect['type']>(['removeRelocatedLock', 'addClusterIp', 'createServiceLock', 'startService']);

export interface CorolistenerOptions {
  corosyncConf: string;
  vmmgrConf: string;
  stateDir: string;
  logger: Logger;
  /** Lock directory for the default NodeActions (default /tmp). */
  lockDir?: string;
  /** Control socket path; none when absent. */
  socket?: string;
  corosync?: CorosyncPort;
  /** Default: NodeActions built from vmmgr.conf. */
  actions?: DaemonActions;
  /**
   * The cluster key file the default configuration publisher is keyed from (default
   * /etc/corosync/authkey, as `corolistener run --key`); unreadable: the change stays local, logged.
   */
  keyFile?: string;
  /** Replaces the default publisher (ClusterConfigPublisher keyed from `keyFile`), e.g. localOnlyPublisher. */
  configPublisher?: ConfigPublisher;
  clock?: Clock;
  /** Retries of a failed step (default: PlanRunner's, 4 attempts from 250 ms). */
  retry?: RetryOptions;
  /** Reconnect backoff (default 200 ms doubling to 5 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** How long broadcastFailureRecords waits for its own message to come back (default 10 s). */
  deliveryTimeoutMs?: number;
  /** `corosync -t` before writing corosync.conf (default 'auto'). */
  corosyncCheck?: 'auto' | 'required' | 'off';
  /** Carrier tracking of the cluster IP's device (default: a LinkMonitor with the default actions; null: none). */
  linkMonitor?: LinkMonitorLike | null;
}

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

/** One effect as submitted to the runner; `status` tells which steps a newer plan must carry over. */
interface Step {
  effect: Effect;
  status: 'pending' | 'running' | 'retrying' | 'done';
  /** How it ended (set once done). */
  outcome?: StepOutcome;
  /**
   * Carried over while still in flight: this copy runs only if that attempt did not succeed
   * (a newer plan cuts a step's retries short, so its failure would otherwise be lost).
   */
  repeatOf?: Step;
  /** Not run because `repeatOf` succeeded: not logged. */
  redundant?: boolean;
}

const STATE_FILE = 'state.json';
/** Steps that would run VMmanager here: only while this node holds the cluster IP. */
const NEEDS_CLUSTER_IP: ReadonlySet<Effect['type']> = new Set(['createServiceLock', 'startService']);

export class Corolistener extends EventEmitter<CorolistenerEvents> {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly port: CorosyncPort;
  private readonly codec = createMessageCodec();
  private readonly stateFile: StateFile<PersistedState>;
  private readonly serviceMarker: ServiceMarker;
  private actions: DaemonActions | undefined;
  private publisher: ConfigPublisher;
  private runner: PlanRunner<Step> | undefined;
  private vmmgr: VmmgrConf | undefined;
  private conf: CorosyncConfView | undefined;
  private state: EngineState | undefined;
  private persisted: PersistedState | null = null;
  private session: CorosyncSession | undefined;
  private sessionToken: object | undefined;
  private runningStep: Step | undefined;
  private connected = false;
  private reconnectDelay: number;
  private reconnectTimer: unknown;
  private readonly timers = new Map<string, unknown>();
  private confRead: Promise<void> | undefined;
  private confReadAgain = false;
  private lastPlan: Step[] = [];
  private link: LinkMonitorLike | undefined;
  /**
   * Set when the carrier went while this node was master or held the cluster IP: the IP is taken
   * back only once corosync confirms the membership after the carrier's return (a new ring), or
   * once the time corosync needs to declare a member gone has passed since (`confirmTimer`).
   */
  private linkHold: { ring: RingId | null; backAt: number | null } | undefined;
  private linkConfirmTimer: unknown;
  /**
   * Whether the last addClusterIp succeeded and no removeClusterIp started since: VMmanager is
   * never started here without the cluster IP (another host may hold it).
   */
  private clusterIp: { held: true } | { held: false; why: string } = { held: false, why: 'not added yet' };
  private deliveryWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];
  private control: ControlSocketServer | undefined;
  private running = false;
  private startedAt = new Date();

  constructor(private readonly options: CorolistenerOptions) {
    super();
    this.logger = options.logger;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.port = options.corosync ?? new NativeCorosyncPort();
    this.stateFile = new StateFile(join(options.stateDir, STATE_FILE), { validate: validatePersistedState });
    this.serviceMarker = new ServiceMarker(options.stateDir);
    // The default (keyed from keyFile) is built by start(), which may read files.
    this.publisher = options.configPublisher ?? localOnlyPublisher(options.logger);
    this.reconnectDelay = options.reconnect?.initialMs ?? 200;
  }

  /** The role as the engine last decided it. */
  get role(): Role {
    return this.state?.role ?? 'unknown';
  }

  get localNodeId(): number | undefined {
    return this.state?.localNodeId;
  }

  /**
   * Reads both configuration files (invalid ones refuse the start), loads the state file,
   * opens the control socket and connects to corosync (retrying in the background).
   */
  async start(): Promise<void> {
    this.startedAt = new Date();
    this.vmmgr = await this.readVmmgr();
    this.conf = this.viewLogged(await readCorosyncConf(this.options.corosyncConf));
    this.actions = this.options.actions ?? this.defaultActions(this.vmmgr);
    this.persisted = await this.loadPersisted();
    if (this.options.configPublisher === undefined) {
      this.publisher = await defaultConfigPublisher({ keyFile: this.options.keyFile, corosyncConf: this.options.corosyncConf, logger: this.logger, corosyncCheck: this.options.corosyncCheck });
    }
    this.link = this.options.linkMonitor === undefined ? this.defaultLinkMonitor(this.vmmgr) : this.options.linkMonitor ?? undefined;
    this.link?.on('carrier', (up) => this.onCarrier(up));
    this.link?.on('error', (err) => this.logger.warn({ event: 'link-monitor', error: errorText(err) }, `link monitor: ${errorText(err)}`));
    this.link?.start();
    this.runner = new PlanRunner<Step>({
      execute: (step, signal) => this.execute(step, signal),
      describe: (step) => step.effect.type,
      onStep: (r) => this.onStep(r),
      onRetry: (info) => {
        // In its backoff wait the step counts as not started: a newer plan carries it over.
        if (this.runningStep) this.runningStep.status = 'retrying';
        this.logger.warn({ event: 'step-retry', effect: info.name, attempt: info.attempt, delayMs: info.delayMs, error: errorText(info.error) }, `${info.name} failed, retrying in ${info.delayMs} ms`);
      },
      retry: this.options.retry,
      // A master keeps trying to take the cluster IP (capped backoff) for as long as it is
      // master: the holder it found (an old master dropping it right now) may let go any time.
      // Stepping down drops the step (carryOver), so this never outlives the role.
      retryFor: (step) => (step.effect.type === 'addClusterIp' ? { attempts: Number.POSITIVE_INFINITY, maxDelayMs: 5_000 } : undefined),
      continueAfterFailure: true,
    });
    if (this.options.socket !== undefined) {
      this.control = await startControlSocket({
        path: this.options.socket,
        handler: (cmd) => this.answer(cmd),
        onClientError: (message) => this.logger.warn({ event: 'control-socket' }, message),
      });
    }
    this.running = true;
    this.logger.info({ event: 'start', version: VERSION, corosyncConf: this.options.corosyncConf, vmmgrConf: this.options.vmmgrConf }, 'corolistener started');
    this.connect();
  }

  /**
   * Clean shutdown: closes corosync and the socket, cancels the step in flight and runs nothing
   * queued, and leaves the node's role effects as they are: a stopped listener must not
   * cause a failover by itself.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.reconnectTimer !== undefined) this.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
    this.closeSession(new Error('daemon stopping'));
    this.link?.close();
    this.clearLinkConfirmTimer();
    await this.runner?.close();
    await this.control?.close();
    await this.publisher.close?.();
    this.logger.info({ event: 'stop', role: this.role }, 'corolistener stopped; role effects left as they are');
  }

  /** Resolves once no plan runs and none is queued (decisions fed back by steps included). */
  async settled(): Promise<void> {
    for (;;) {
      await this.runner?.idle();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.runner?.busy) return;
    }
  }

  /** The node table as the daemon sees it now (control socket `nodes`). */
  nodeListReport(): NodeListReport {
    const s = this.state;
    if (this.conf === undefined) throw new Error('configuration not read yet');
    const q = s?.quorum;
    return buildNodeListReport({
      conf: this.conf,
      localNodeId: s?.localNodeId ?? 0,
      quorum: this.connected && q ? { quorate: q.quorate, members: q.members } : null,
      masterId: s?.masterId ?? null,
    });
  }

  statusReport(): StatusReport {
    return {
      daemon: { pid: process.pid, version: VERSION, startedAt: this.startedAt.toISOString(), corosyncConnected: this.connected, role: this.role },
      report: this.nodeListReport(),
    };
  }

  private answer(cmd: ControlCommand): unknown {
    return cmd === 'nodes' ? this.nodeListReport() : this.statusReport();
  }

  // ---- corosync connection

  private connect(): void {
    this.reconnectTimer = undefined;
    if (!this.running) return;
    // Events are only taken from the newest session; those a session fires while it is being
    // opened wait until the engine has our node id and the configuration.
    const token = {};
    this.sessionToken = token;
    const early: Array<() => void> = [];
    let opening = true;
    const handle = (fn: () => void): void => {
      if (token !== this.sessionToken || !this.running) return;
      if (opening) early.push(fn);
      else fn();
    };
    let session: CorosyncSession;
    try {
      session = this.port.connect({
        onQuorum: (e) => handle(() => this.onQuorum(e)),
        onMessage: (m) => handle(() => this.onMessage(m)),
        onConfigChanged: () => handle(() => void this.reloadCorosyncConf('cmap')),
        onMemberVersions: (versions) => handle(() => this.feed({ type: 'configVersions', now: this.clock.now(), versions })),
        onDisconnect: (err) => handle(() => this.onDisconnect(err)),
        onGroupMembership: (e) =>
          handle(() => {
            this.publisher.onGroupMembership?.(e.members, e.joined);
            this.onGroupJoined(e.joined);
          }),
      });
    } catch (err) {
      this.sessionToken = undefined;
      this.logger.warn({ event: 'corosync-connect', error: errorText(err), retryInMs: this.reconnectDelay }, 'cannot connect to corosync');
      this.ensureEngine(this.localIdFromConf());
      // Corosync going away is quorum lost (a first start without corosync included).
      if (this.state && this.state.quorum?.quorate !== false) this.feed({ type: 'disconnected', now: this.clock.now() });
      this.scheduleReconnect();
      return;
    }
    this.session = session;
    this.connected = true;
    this.reconnectDelay = this.options.reconnect?.initialMs ?? 200;
    this.logger.info({ event: 'corosync-connected', localNodeId: session.localNodeId }, 'connected to corosync');
    this.ensureEngine(session.localNodeId);
    this.publisher.attach?.({
      localNodeId: session.localNodeId,
      send: (data) => session.send(data),
      reloadConfig: () => session.reloadConfig(),
      masterId: () => this.state?.masterId ?? null,
      configInstalled: () => void this.reloadCorosyncConf('config-distribution'),
      peerVersion: (nodeId, version) => this.feed({ type: 'configVersions', now: this.clock.now(), versions: { [nodeId]: version } }),
      localSide: () => ({ role: this.role, master: this.state?.masterId ?? null, since: this.role === 'master' ? (this.state?.namedSince ?? null) : null }),
      configConflict: (c) => this.feed({ type: 'configConflict', now: this.clock.now(), ...c }),
    });
    // Fresh state: the configuration as it is now (re-read: it may have changed while corosync
    // was away, e.g. by `config sync`); the quorum handle delivers the current membership itself.
    this.feedConfig();
    void this.reloadCorosyncConf('connect');
    opening = false;
    for (const fn of early) handle(fn);
  }

  private onDisconnect(err: Error): void {
    this.logger.error({ event: 'corosync-disconnect', error: errorText(err) }, 'corosync went away: quorum lost');
    this.closeSession(err);
    this.feed({ type: 'disconnected', now: this.clock.now() });
    this.scheduleReconnect();
  }

  private closeSession(reason: Error): void {
    const s = this.session;
    this.session = undefined;
    this.sessionToken = undefined;
    this.connected = false;
    if (s !== undefined) this.publisher.attach?.(undefined);
    try {
      s?.close();
    } catch (err) {
      this.logger.warn({ event: 'corosync-close', error: errorText(err) }, 'closing corosync handles failed');
    }
    const waiters = this.deliveryWaiters;
    this.deliveryWaiters = [];
    for (const w of waiters) w.reject(new Error(`own message not delivered: ${reason.message}`));
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.options.reconnect?.maxMs ?? 5_000, delay * 2);
    this.reconnectTimer = this.clock.setTimeout(() => this.connect(), delay);
  }

  private onQuorum(e: { quorate: boolean; ringId: { nodeId: number; seq: number }; members: number[] }): void {
    this.feed({ type: 'quorum', now: this.clock.now(), quorate: e.quorate, ringId: e.ringId, members: [...e.members] });
    // After every membership change: the members' config versions as cmap has them now.
    const session = this.session;
    if (session === undefined) return;
    let versions: Record<number, number>;
    try {
      versions = session.configVersions(e.members);
    } catch (err) {
      this.logger.warn({ event: 'cmap-read', error: errorText(err) }, 'cannot read member config versions');
      return;
    }
    this.feed({ type: 'configVersions', now: this.clock.now(), versions });
  }

  private onMessage(m: { nodeId: number; own: boolean; data: Buffer }): void {
    let decoded;
    try {
      decoded = this.codec.decode(m.data);
    } catch (err) {
      // One line per rejected message, the same as ConfigChannel's (docs/config-update.md).
      const code = err instanceof MessageError ? err.code : 'bad-envelope';
      this.logger.warn({ event: 'message-rejected', from: m.nodeId, code, bytes: m.data.length, error: errorText(err) }, 'cluster message rejected');
      return;
    }
    if (decoded.type !== FAILURE_RECORDS) {
      // Configuration distribution (src/cluster/config-publisher.ts); it ignores its own messages.
      if (!this.publisher.onMessage?.(m.nodeId, decoded)) this.logger.warn({ event: 'message-unhandled', from: m.nodeId, type: decoded.type }, `no handler for CPG message type ${decoded.type}`);
      return;
    }
    if (m.own) {
      // Our own broadcast came back in agreed order: every member has it now.
      this.deliveryWaiters.shift()?.resolve();
      return;
    }
    this.feed({ type: 'failureRecords', now: this.clock.now(), from: m.nodeId, ...(decoded.body as FailureRecordsBody) });
  }

  // ---- configuration

  private async readVmmgr(): Promise<VmmgrConf> {
    try {
      const conf = await readVmmgrConf(this.options.vmmgrConf);
      this.logConfigWarnings('vmmgr-conf', conf.warnings);
      return conf;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      this.logger.warn({ event: 'vmmgr-conf', file: this.options.vmmgrConf }, `${this.options.vmmgrConf} does not exist: no cluster IP, default commands`);
      return defaultVmmgrConf();
    }
  }

  /** Warnings do not stop the daemon, but the operator should see them (as `config show` does). */
  private logConfigWarnings(event: string, warnings: readonly ConfigError[]): void {
    for (const w of warnings) this.logger.warn({ event, file: w.file, line: w.line, field: w.field }, `warning: ${w.message}`);
  }

  /**
   * A listener joined our CPG group: it missed the failure records we broadcast on this ring
   * when it was not there yet (e.g. its daemon connected to corosync after the ring formed), and
   * its VM verdict waits for every member's records. Send ours again (receivers merge).
   */
  private onGroupJoined(joined: readonly number[]): void {
    const s = this.state;
    const localId = s?.localNodeId;
    const ringId = s?.quorum?.quorate ? s.quorum.ringId : null;
    if (s === undefined || ringId === null || !joined.some((id) => id !== localId)) return;
    this.submit([failureRecordsBroadcast(s, ringId)]);
  }

  /** Carrier tracking of the cluster IP's device, when there is a cluster IP and NodeActions run it. */
  private defaultLinkMonitor(v: VmmgrConf): LinkMonitor | undefined {
    return this.options.actions === undefined && v.cloudIp !== undefined ? new LinkMonitor(v.cloudIpDev) : undefined;
  }

  /**
   * The cluster IP's device lost or regained its carrier (keepalived's `track_interface`).
   * Lost: the cluster IP goes at once, and a master keeps trying to take it back (addClusterIp
   * refuses without carrier, retried), the rest of what it owes kept behind. Regained: a step
   * waiting in its backoff is tried again now; the duplicate-address check then decides.
   */
  private onCarrier(up: boolean): void {
    this.logger.warn({ event: 'link', dev: this.link?.dev, carrier: up }, `${this.link?.dev}: carrier ${up ? 'back' : 'lost'}`);
    if (!this.running || this.runner === undefined) return;
    if (!up) {
      if (this.role !== 'master' && !this.clusterIp.held) return;
      // At once, outside the plan: the step in flight may wait for seconds (a CPG round trip
      // while corosync gathers a new membership), and the new master may be elected meanwhile.
      this.clusterIp = { held: false, why: `no carrier on ${this.link?.dev}` };
      this.linkHold = { ring: this.state?.quorum?.ringId ?? null, backAt: null };
      this.clearLinkConfirmTimer();
      const started = performance.now();
      void (this.actions as DaemonActions).removeClusterIp().then(
        () => this.logger.info({ event: 'link-ip-removed', durationMs: Math.round((performance.now() - started) * 10) / 10 }, 'cluster IP removed: no carrier'),
        (err: unknown) => this.logger.error({ event: 'link-ip-removed', error: errorText(err) }, `removing the cluster IP without carrier failed: ${errorText(err)}`),
      );
      if (this.role === 'master') this.submit([{ type: 'addClusterIp' }], { clusterIpFirst: true });
    } else if (this.linkHold !== undefined) {
      this.linkHold.backAt = this.clock.now();
      this.clearLinkConfirmTimer();
      this.linkConfirmTimer = this.clock.setTimeout(() => {
        this.linkConfirmTimer = undefined;
        if (this.running && this.lastPlan.some((s) => s.status === 'retrying')) this.submit([]);
      }, this.linkConfirmMs());
    }
  }

  /** corosync's own time to declare a silent member gone (+10%), or 4 s when it is unknown. */
  private linkConfirmMs(): number {
    const ms = this.session?.failureDetectionMs?.();
    return ms === undefined ? 4_000 : Math.ceil(ms * 1.1);
  }

  private clearLinkConfirmTimer(): void {
    if (this.linkConfirmTimer !== undefined) this.clock.clearTimeout(this.linkConfirmTimer);
    this.linkConfirmTimer = undefined;
  }

  /**
   * Why the link does not let this node take the cluster IP now, or undefined. A duplicate-
   * address check on a dead link proves nothing: the master elected while this node was cut off
   * may hold the address. And after a carrier loss, until corosync confirms the membership, this
   * node may be the old master of a partition that elected another one while it was cut off
   * (its corosync still gathering, reporting the old membership); the duplicate-address check
   * alone can miss a holder right after the link returns.
   */
  private linkRefusal(): string | undefined {
    const link = this.link;
    if (link === undefined) return undefined;
    if (!link.carrier) return `no carrier on ${link.dev}: not taking the cluster IP`;
    const hold = this.linkHold;
    if (hold === undefined) return undefined;
    if (hold.backAt === null || (sameRing(this.state?.quorum?.ringId, hold.ring) && this.clock.now() - hold.backAt < this.linkConfirmMs())) {
      return `carrier back on ${link.dev}: waiting for corosync to confirm the membership before taking the cluster IP`;
    }
    this.linkHold = undefined;
    return undefined;
  }

  private defaultActions(v: VmmgrConf): DaemonActions {
    return new NodeActions({
      lockDir: this.options.lockDir,
      clusterIp: v.cloudIp === undefined ? undefined : { ip: v.cloudIp, prefixLength: v.cloudMask, dev: v.cloudIpDev },
      commands: {
        serviceStart: v.serviceStartCommand,
        serviceStop: v.serviceStopCommand,
        vmSuspend: v.vmSuspendCommand,
        vmResume: v.vmResumeCommand,
        nodeFailed: v.nodeFailedCommand,
      },
      onAnnounceFailed: (err) =>
        this.logger.warn({ event: 'arp-announce', error: errorText(err) }, 'a gratuitous ARP for the cluster IP failed; the next addClusterIp announces again'),
    });
  }

  /**
   * Re-reads corosync.conf and feeds it; an invalid file is logged and the last good view kept.
   * A corosync reload changes many cmap keys at once: requests arriving during a read are
   * coalesced into one more read after it.
   */
  private reloadCorosyncConf(why: string): Promise<void> {
    if (this.confRead !== undefined) {
      this.confReadAgain = true;
      return this.confRead;
    }
    this.confRead = (async () => {
      try {
        do {
          this.confReadAgain = false;
          await this.readCorosyncConfOnce(why);
        } while (this.confReadAgain);
      } finally {
        this.confRead = undefined;
      }
    })();
    return this.confRead;
  }

  private async readCorosyncConfOnce(why: string): Promise<void> {
    try {
      this.conf = this.viewLogged(await readCorosyncConf(this.options.corosyncConf));
    } catch (err) {
      this.logger.error({ event: 'corosync-conf', why, error: errorText(err) }, 'cannot use corosync.conf; keeping the last valid one');
      return;
    }
    if (this.running) this.feedConfig();
  }

  private viewLogged(loaded: LoadedCorosyncConf): CorosyncConfView {
    this.logConfigWarnings('corosync-conf', loaded.warnings);
    return loaded.view;
  }

  private feedConfig(): void {
    if (this.conf === undefined || this.vmmgr === undefined) return;
    this.feed({ type: 'config', now: this.clock.now(), view: clusterViewOf(this.conf, this.vmmgr.takeoverDelayMs) });
  }

  /** Before corosync answers once: our node id is the configured node with a local address. */
  private localIdFromConf(): number | undefined {
    const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)));
    return this.conf?.nodes.find((n) => n.nodeid !== undefined && Object.values(n.ringAddrs).some((a) => local.has(a)))?.nodeid;
  }

  private async loadPersisted(): Promise<PersistedState | null> {
    try {
      return (await this.stateFile.load()) ?? null;
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      const aside = await this.stateFile.quarantine();
      this.logger.error({ event: 'state-file', error: err.message, movedTo: aside }, 'state file unusable: moved aside, starting with no history');
      return null;
    }
  }

  // ---- decisions

  private ensureEngine(localNodeId: number | undefined): void {
    if (this.state !== undefined || localNodeId === undefined) return;
    this.state = initialState(localNodeId, this.persisted);
    this.logger.info({ event: 'engine', localNodeId, restoredRole: this.persisted?.lastRole ?? null }, 'decision engine ready');
  }

  private feed(event: EngineEvent): void {
    const before = this.state;
    if (before === undefined || !this.running) return;
    // A member with a newer config_version than our table: our file may have been replaced
    // without a cmap change we track (`config sync` before corosync restarted, a file pushed to
    // us and acknowledged before any reload). Re-read it, or we would stay stale for good.
    if (event.type === 'configVersions' && this.conf !== undefined) {
      const ours = this.conf.configVersion ?? 0n;
      if (Object.values(event.versions).some((v) => BigInt(v) > ours)) void this.reloadCorosyncConf('newer-version-seen');
    }
    const decision = transition(before, event);
    this.state = decision.state;
    const s = decision.state;
    this.logger.info(
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
    if (decision.effects.length > 0) this.submit(decision.effects);
    this.emit('decision', { role: s.role, masterId: s.masterId, effects: decision.effects, explanation: decision.explanation });
    if (s.role !== before.role) this.emit('role', { role: s.role, previous: before.role });
  }

  /**
   * Submits a decision's effects with what the last plan still owes. `clusterIpFirst`: effects
   * on the cluster IP alone (a carrier change, not an engine decision), run before every owed
   * step, which are all kept except the owed cluster IP steps they replace.
   */
  private submit(effects: Effect[], opts: { clusterIpFirst?: boolean } = {}): void {
    // The step in flight is owed too, in case it fails: superseded, its retries are cut short.
    const owed = this.lastPlan.filter((s) => s.status !== 'done');
    const owedByEffect = new Map(owed.map((s) => [s.effect, s]));
    let ordered: Effect[];
    if (opts.clusterIpFirst) {
      ordered = [...effects, ...owed.map((s) => s.effect).filter((e) => e.type !== 'addClusterIp' && e.type !== 'removeClusterIp')];
    } else {
      const merged = carryOver(owed.map((s) => s.effect), effects);
      // carryOver puts the owed steps first. When one of them is failing (waiting in its retry
      // backoff), the new decision's steps go first instead, so a failing step never delays a
      // later decision; the owed steps keep their order among themselves.
      const kept = merged.slice(0, merged.length - effects.length);
      ordered = owed.some((s) => s.status === 'retrying') ? [...effects, ...kept] : merged;
    }
    const steps: Step[] = ordered.map((effect) => {
      const old = owedByEffect.get(effect);
      return old?.status === 'running' ? { effect, status: 'pending', repeatOf: old } : { effect, status: 'pending' };
    });
    // A node that is no longer master (e.g. quorum lost while VMmanager is still starting)
    // cancels a master step in flight: dropping the cluster IP must not wait for a command that
    // hangs. Only then: cancelling a master's own start would lose the failed nodes it restores.
    const inFlight = this.runningStep;
    const abortInFlight =
      inFlight !== undefined && inFlight.status === 'running' && MASTER_STEPS.has(inFlight.effect.type) && this.state?.role !== 'master';
    this.lastPlan = steps;
    // A takeover's longest wait is the duplicate address check: it starts first, and listens
    // while the state is written ahead (it only looks and changes nothing; the address itself is
    // added by the addClusterIp step, after persistState).
    if (steps.some((s) => s.effect.type === 'addClusterIp')) this.actions?.prepareClusterIp?.();
    this.runner?.submit(steps, undefined, { abortInFlight });
  }

  private onStep(r: StepReport<Step>): void {
    r.effect.status = 'done';
    r.effect.outcome = r.outcome;
    if (r.outcome === 'superseded' || r.effect.redundant) return; // superseded: carried over (or deliberately dropped) by the newer plan
    const entry = { event: 'step', effect: r.name, outcome: r.outcome, durationMs: Math.round(r.durationMs * 10) / 10, attempts: r.attempts };
    if (r.outcome === 'ok') this.logger.info(entry, `${r.name}: ok`);
    else this.logger.error({ ...entry, error: errorText(r.error) }, `${r.name}: ${r.outcome}`);
  }

  // ---- effects

  private context(role: ContextRole, failedNodes?: readonly number[]): CommandContext {
    return {
      role,
      nodeId: this.state?.localNodeId ?? 0,
      clusterIp: this.vmmgr?.cloudIp,
      ihttpdPort: this.conf?.ihttpd.ports[0],
      failedNodes,
    };
  }

  private currentRole(): ContextRole {
    const r = this.role;
    return r === 'unknown' ? 'suspended' : r;
  }

  private async execute(step: Step, signal: AbortSignal): Promise<void> {
    step.status = 'running';
    this.runningStep = step;
    const e = step.effect;
    const a = this.actions as DaemonActions;
    if (step.repeatOf?.outcome === 'ok') {
      step.redundant = true;
      return;
    }
    if (NEEDS_CLUSTER_IP.has(e.type) && !this.clusterIp.held) {
      throw Object.assign(new Error(`not done: the cluster IP is not held here (${this.clusterIp.why})`), { retryable: false });
    }
    switch (e.type) {
      case 'addClusterIp':
        try {
          // Refused by the link: retried; the carrier's return and corosync's confirmation cut
          // the backoff short (onCarrier, a new ring's plan).
          const refusal = this.linkRefusal();
          if (refusal !== undefined) throw new Error(refusal);
          await a.addClusterIp(signal);
          if (this.link && !this.link.carrier) {
            // The carrier went while the address was being added (after onCarrier removed it).
            await a.removeClusterIp(signal);
            throw new Error(`carrier lost on ${this.link.dev} while adding the cluster IP`);
          }
          this.clusterIp = { held: true };
        } catch (err) {
          // e.g. DuplicateAddressError: another host holds the address; retried (retryFor).
          this.clusterIp = { held: false, why: `it could not be taken: ${errorText(err)}` };
          throw err;
        }
        return;
      case 'removeClusterIp':
        this.clusterIp = { held: false, why: 'removed' };
        await a.removeClusterIp(signal);
        return;
      case 'createServiceLock': await a.createServiceLock(); return;
      case 'removeServiceLock': await a.removeServiceLock(); return;
      case 'removeRelocatedLock':
        // Only a fresh takeover removes it: the service must then be started, whatever ran before.
        await this.serviceMarker.clear();
        await a.removeStaleRelocatedLock();
        return;
      case 'startService': return this.startService(e.failedNodes, signal);
      case 'stopService':
        // Cleared first: if stopping fails, a later takeover must start the service again.
        await this.serviceMarker.clear();
        await a.stopService(this.context(this.currentRole()), signal);
        return;
      case 'suspendVms': return this.suspendVms(signal);
      case 'resumeVms': await a.resumeVms(e.vms, this.context(this.currentRole()), { signal }); return;
      case 'reportVmsDiscarded':
        this.logger.warn({ event: 'vms-discarded', vms: e.vms }, `suspended VMs were restored elsewhere meanwhile; not resuming ${e.vms.join(', ')}`);
        this.emit('vmsDiscarded', { vms: [...e.vms] });
        return;
      case 'reportNodesFailed':
        await a.nodeFailed(this.context(this.currentRole(), e.nodeIds), signal);
        this.emit('nodesFailed', { nodeIds: [...e.nodeIds], atTakeover: false });
        return;
      case 'raisePriority': return this.raisePriority(e.nodeId, e.configVersion);
      case 'publishConfig':
        await this.publisher.publish({ configVersion: e.configVersion, corosyncConf: this.options.corosyncConf, localNodeId: this.state?.localNodeId ?? 0 });
        return;
      case 'broadcastFailureRecords': {
        const { type: _, ...body } = e;
        return this.broadcast(body);
      }
      case 'startTimer': {
        const old = this.timers.get(e.id);
        if (old !== undefined) this.clock.clearTimeout(old);
        this.timers.set(e.id, this.clock.setTimeout(() => {
          this.timers.delete(e.id);
          this.feed({ type: 'timerFired', now: this.clock.now(), id: e.id });
        }, e.ms));
        return;
      }
      case 'persistState': await this.stateFile.save(e.state); return;
    }
  }

  private async startService(failedNodes: number[], signal: AbortSignal): Promise<void> {
    if (await this.serviceMarker.isStarted()) {
      this.logger.info({ event: 'start-service-skipped', failedNodes }, 'VMmanager was already started by this daemon in this boot: not started again');
      return;
    }
    await (this.actions as DaemonActions).startService(this.context('master', failedNodes), signal);
    await this.serviceMarker.markStarted(new Date(this.clock.now()));
    // The takeover's failed nodes reach VMmanager through the start command's environment only
    // (no NodeFailedCommand: it would restore them twice); an in-process agent hears of them here.
    if (failedNodes.length > 0) this.emit('nodesFailed', { nodeIds: [...failedNodes], atTakeover: true });
  }

  /** The engine always gets a result, possibly empty, even when suspending partly failed. */
  private async suspendVms(signal: AbortSignal): Promise<void> {
    let vms: string[] = [];
    try {
      const result = await (this.actions as DaemonActions).suspendVms(this.context('suspended'), { signal });
      // A configured VmSuspendCommand reports the VMs it suspended one per line on stdout.
      vms = result.via === 'virsh' ? [...result.suspended] : parseVirshNames(result.result.stdout);
    } catch (err) {
      if (err instanceof VmCommandError) vms = [...err.done];
      throw err;
    } finally {
      // Outside this step: the decision it triggers must not run inside the runner's callback.
      queueMicrotask(() => this.feed({ type: 'vmsSuspended', now: this.clock.now(), vms }));
    }
  }

  /**
   * The engine's raisePriority: prio above every other node and config_version at least the
   * engine's (one more than the file's, or past a version claimed by another node, or past a
   * same-version conflict: docs/config-update.md).
   */
  private async raisePriority(nodeId: number, configVersion: number): Promise<void> {
    const edit = () => editCorosyncConf(this.options.corosyncConf, (doc) => raiseNodePrioAboveOthers(doc, nodeId, BigInt(configVersion)).doc, { corosyncCheck: this.options.corosyncCheck });
    const result = await (this.publisher.withConfigLock ? this.publisher.withConfigLock(edit) : edit());
    this.logger.info(
      { event: 'raise-priority', nodeId, configVersion, changed: result.changed },
      result.changed ? `corosync.conf: priority above every other node, config_version ${configVersion}` : `corosync.conf already has it (config_version ${configVersion} or later, priority on top)`,
    );
    // Reload everywhere (also when an earlier attempt already wrote the file): every member's
    // cmap then shows our newer version, so no member with the old file can act as master,
    // even before the other nodes have fetched the new file (publishConfig).
    const session = this.session;
    if (session === undefined) throw new Error('not connected to corosync: cannot reload its configuration');
    session.reloadConfig();
    // The engine trusts our file before corosync's reload shows it in cmap.
    await this.reloadCorosyncConf('raisePriority');
  }

  /** Sends our failure records and waits until CPG delivers them back to us (agreed order). */
  private async broadcast(body: FailureRecordsBody): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('not connected to corosync');
    const delivered = new Promise<void>((resolve, reject) => {
      const waiter = { resolve: () => { this.clock.clearTimeout(timer); resolve(); }, reject: (e: Error) => { this.clock.clearTimeout(timer); reject(e); } };
      const timer = this.clock.setTimeout(() => {
        this.deliveryWaiters = this.deliveryWaiters.filter((w) => w !== waiter);
        reject(new Error('own failure records not delivered back in time'));
      }, this.options.deliveryTimeoutMs ?? 10_000);
      this.deliveryWaiters.push(waiter);
    });
    delivered.catch(() => {}); // awaited below; this only keeps an early rejection from being "unhandled"
    try {
      await session.send(encodeMessage(FAILURE_RECORDS, body));
    } catch (err) {
      this.deliveryWaiters.pop()?.reject(err as Error);
    }
    await delivered;
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
