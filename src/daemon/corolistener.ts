// The corolistener daemon in-process (docs/design.md §2): the wiring of corosync -> engine ->
// interpreter -> actions. Every decision is the engine's (src/engine); the interpreter
// (interpreter.ts) runs its effects with this node's handlers (node-effects.ts); the corosync
// connection and its reconnects are corosync-session.ts's. What is left here: reading the two
// configuration files, turning corosync's and the link's news into engine events, and reports.
import { EventEmitter } from 'node:events';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CommandContext, ContextRole } from '../actions/command-context';
import { ExecCommandRunner } from '../actions/command-runner';
import type { RetryOptions } from '../actions/retry';
import { StateFile } from '../actions/state-file';
import { WatchdogDevice, type WatchdogPort } from '../actions/watchdog';
import { MessageError } from '../cluster/envelope';
import { ClusterKey } from '../cluster/cluster-key';
import { HANDOVER, validateHandoverBody } from '../cluster/handover-messages';
import { OPERATOR, validateOperatorBody } from '../cluster/operator-messages';
import type { QuorumEvent } from '../corosync/bindings';
import { createMessageCodec, FAILURE_RECORDS, validateFailureRecordsBody } from '../cluster/messages';
import type { ConfigPublisher } from '../cluster/publisher-port';
import { type LoadedCorosyncConf, readCorosyncConf } from '../config/corosync-conf-file';
import type { CorosyncConfView } from '../config/corosync-conf-view';
import type { VmmgrConf } from '../config/vmmgr-conf';
import { initialState } from '../engine/engine';
import { fenceSafety, pendingFences } from '../engine/fencing';
import type { EngineEvent, PersistedState, Role } from '../engine/types';
import { VERSION } from '../version';
import { startControlSocket, type ControlCommand, type ControlSocketServer } from './control-socket';
import type { CorosyncPort, CorosyncSession } from './corosync-port';
import { NativeCorosyncPort } from './corosync-port';
import { CorosyncConnection, errorText } from './corosync-session';
import { defaultConfigPublisher, localOnlyPublisher } from './default-publisher';
import { FencingFeeder } from './fencing-feeder';
import { Interpreter } from './interpreter';
import { History } from './history';
import { Metrics, MetricsServer } from './metrics';
import { nodeEffects } from './node-effects';
import { onDecision, onStep, type Observers } from './observers';
import { OperatorDesk } from './operator-desk';
import { buildNodeListReport, clusterViewOf, engineVersion } from './node-report';
import { validatePersistedState } from './persisted-state';
import { SYSTEM_CLOCK, type Clock, type CorolistenerEvents, type DaemonActions, type LinkMonitorLike } from './ports';
import type { NodeListReport, StatusReport } from './report';
import { ServiceMarker } from './service-marker';
import { defaultLinkMonitor, defaultNodeActions, loadPersistedState, localNodeIdFromConf, logConfigWarnings, readVmmgrOrDefaults } from './node-setup';

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
  /** The watchdog (default: vmmgr.conf's WatchdogDevice, if any; null: fencing off whatever it says). */
  watchdog?: WatchdogPort | null;
  /** Serve Prometheus metrics at http://HOST:PORT/metrics (default: none; `run --metrics`). */
  metrics?: { host: string; port: number };
}

const STATE_FILE = 'state.json';

export class Corolistener extends EventEmitter<CorolistenerEvents> {
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly codec = createMessageCodec();
  private readonly stateFile: StateFile<PersistedState>;
  private readonly serviceMarker: ServiceMarker;
  private readonly corosync: CorosyncConnection;
  private publisher: ConfigPublisher;
  private interpreter: Interpreter | undefined;
  private vmmgr: VmmgrConf | undefined;
  private conf: CorosyncConfView | undefined;
  private persisted: PersistedState | null = null;
  private confRead: Promise<void> | undefined;
  private confReadAgain = false;
  private link: LinkMonitorLike | undefined;
  private control: ControlSocketServer | undefined;
  private fencing: FencingFeeder | undefined;
  private running = false;
  private startedAt = new Date();
  private readonly desk: OperatorDesk;
  private history: History | undefined;
  private metrics: { metrics: Metrics; server: MetricsServer } | undefined;
  private readonly observers: Observers;
  private clusterKey: ClusterKey | undefined;

  constructor(private readonly options: CorolistenerOptions) {
    super();
    this.logger = options.logger;
    this.clock = options.clock ?? SYSTEM_CLOCK;
    this.stateFile = new StateFile(join(options.stateDir, STATE_FILE), { validate: validatePersistedState });
    this.serviceMarker = new ServiceMarker(options.stateDir);
    // The default (keyed from keyFile) is built by start(), which may read files.
    this.publisher = options.configPublisher ?? localOnlyPublisher(options.logger);
    this.desk = new OperatorDesk({
      logger: this.logger,
      clock: this.clock,
      feed: (e) => this.feed(e),
      state: () => this.interpreter?.state,
      send: async (data) => {
        const session = this.corosync.current;
        if (session === undefined) throw new Error('not connected to corosync');
        await session.send(data);
      },
      runner: new ExecCommandRunner(),
      notifyCommand: () => this.vmmgr?.notifyCommand,
      context: (role) => this.context(role),
      key: () => this.clusterKey,
    });
    this.observers = { logger: this.logger, emit: (e, payload) => this.emit(e, ...([payload] as never)), history: () => this.history, metrics: () => this.metrics?.metrics, desk: this.desk };
    this.corosync = new CorosyncConnection({
      port: options.corosync ?? new NativeCorosyncPort(),
      clock: this.clock,
      logger: this.logger,
      reconnect: options.reconnect,
      deliveryTimeoutMs: options.deliveryTimeoutMs,
      handlers: {
        opened: (session) => this.onSessionOpened(session),
        connectFailed: () => {
          this.ensureEngine(localNodeIdFromConf(this.conf));
          // Corosync going away is quorum lost (a first start without corosync included).
          if (this.interpreter?.state?.quorum?.quorate !== false) this.feed({ type: 'disconnected', now: this.clock.now() });
        },
        disconnected: () => this.feed({ type: 'disconnected', now: this.clock.now() }),
        closed: () => this.publisher.attach?.(undefined),
        quorum: (e) => this.onQuorum(e),
        message: (m) => this.onMessage(m),
        configChanged: () => void this.reloadCorosyncConf('cmap'),
        memberVersions: (versions) => this.feed({ type: 'configVersions', now: this.clock.now(), versions }),
        groupMembership: (e) => {
          this.publisher.onGroupMembership?.(e.members, e.joined);
          this.feed({ type: 'groupJoined', now: this.clock.now(), nodeIds: e.joined });
        },
      },
    });
  }

  /** The role as the engine last decided it. */
  get role(): Role {
    return this.interpreter?.state?.role ?? 'unknown';
  }

  get localNodeId(): number | undefined {
    return this.interpreter?.state?.localNodeId;
  }

  /**
   * Reads both configuration files (invalid ones refuse the start), loads the state file,
   * opens the control socket and connects to corosync (retrying in the background).
   */
  async start(): Promise<void> {
    this.startedAt = new Date();
    this.vmmgr = await readVmmgrOrDefaults(this.options.vmmgrConf, this.logger);
    this.conf = this.viewLogged(await readCorosyncConf(this.options.corosyncConf));
    const actions = this.options.actions ?? defaultNodeActions(this.vmmgr, this.options.lockDir, this.logger);
    this.persisted = await loadPersistedState(this.stateFile, this.logger);
    this.clusterKey = await ClusterKey.fromFile(this.options.keyFile).catch(() => undefined); // forwarding operator commands
    this.history = new History(
      this.options.stateDir,
      this.startedAt.toISOString(),
      () => this.clock.now(),
      (err) => this.logger.warn({ event: 'history', error: errorText(err) }, 'cannot write the decision history'),
    );
    await this.history.open().catch((err: unknown) => this.logger.warn({ event: 'history', error: errorText(err) }, 'cannot read the decision history'));
    if (this.options.configPublisher === undefined) {
      this.publisher = await defaultConfigPublisher({ keyFile: this.options.keyFile, corosyncConf: this.options.corosyncConf, logger: this.logger, corosyncCheck: this.options.corosyncCheck });
    }
    this.interpreter = this.buildInterpreter(actions);
    this.link = this.options.linkMonitor === undefined ? defaultLinkMonitor(this.vmmgr, this.options.actions !== undefined) : (this.options.linkMonitor ?? undefined);
    this.link?.on('carrier', (up) => this.onCarrier(up));
    this.link?.on('error', (err) => this.logger.warn({ event: 'link-monitor', error: errorText(err) }, `link monitor: ${errorText(err)}`));
    this.link?.start();
    this.fencing = new FencingFeeder({
      device: this.options.watchdog !== undefined ? this.options.watchdog : this.vmmgr.watchdogDevice === undefined ? null : new WatchdogDevice(this.vmmgr.watchdogDevice),
      timeoutMs: this.vmmgr.watchdogTimeoutS * 1000,
      clock: this.clock,
      logger: this.logger,
      safety: () => (this.interpreter?.state === undefined ? undefined : fenceSafety(this.interpreter.state)),
      roundTrip: () => this.corosync.ping(),
      onArmed: () => this.feedFencing(false),
    });
    if (this.options.socket !== undefined) {
      this.control = await startControlSocket({
        path: this.options.socket,
        handler: (cmd, request) => this.answer(cmd, request),
        onClientError: (message) => this.logger.warn({ event: 'control-socket' }, message),
      });
    }
    if (this.options.metrics !== undefined) {
      const metrics = new Metrics(() => this.fencing?.report([]).armed === true);
      const server = new MetricsServer(metrics);
      const { address, port } = await server.listen(this.options.metrics.host, this.options.metrics.port);
      this.metrics = { metrics, server };
      this.logger.info({ event: 'metrics', address, port }, `metrics at http://${address}:${port}/metrics`);
    }
    // Last: nothing after it may fail, or the daemon would exit with the watchdog armed.
    this.fencing.start();
    this.running = true;
    this.logger.info({ event: 'start', version: VERSION, corosyncConf: this.options.corosyncConf, vmmgrConf: this.options.vmmgrConf }, 'corolistener started');
    this.corosync.start();
  }

  /**
   * Clean shutdown: closes corosync and the socket, cancels the step in flight and runs nothing
   * queued, and leaves the node's role effects as they are: a stopped listener must not
   * cause a failover by itself.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.corosync.stop();
    this.fencing?.stop();
    this.link?.close();
    await this.interpreter?.close();
    this.desk.close();
    await this.history?.flushed();
    await this.metrics?.server.close();
    await this.control?.close();
    await this.publisher.close?.();
    this.logger.info({ event: 'stop', role: this.role }, 'corolistener stopped; role effects left as they are');
  }

  /** Resolves once no plan runs and none is queued (decisions fed back by steps included). */
  async settled(): Promise<void> {
    await this.interpreter?.settled();
    while (this.versionsRead !== undefined) {
      await this.versionsRead;
      await this.interpreter?.settled();
    }
  }

  /** The node table as the daemon sees it now (control socket `nodes`). */
  nodeListReport(): NodeListReport {
    const s = this.interpreter?.state;
    if (this.conf === undefined) throw new Error('configuration not read yet');
    const q = s?.quorum;
    return buildNodeListReport({
      conf: this.conf,
      localNodeId: s?.localNodeId ?? 0,
      quorum: this.corosync.connected && q ? { quorate: q.quorate, members: q.members } : null,
      masterId: s?.masterId ?? null,
    });
  }

  statusReport(): StatusReport {
    return {
      daemon: { pid: process.pid, version: VERSION, startedAt: this.startedAt.toISOString(), corosyncConnected: this.corosync.connected, role: this.role, lastHandover: this.desk.lastHandover },
      report: this.nodeListReport(),
    };
  }

  /** Self-fencing now: armed or not, last feed, the restores held back for fence windows. */
  fencingReport(): ReturnType<FencingFeeder['report']> | undefined {
    const s = this.interpreter?.state;
    return this.fencing?.report(s === undefined ? [] : pendingFences(s, this.clock.now()));
  }

  private answer(cmd: ControlCommand, request: unknown): unknown {
    if (cmd === 'operate') return this.desk.operate(request);
    const fencing = this.fencingReport();
    return { ...(cmd === 'nodes' ? this.nodeListReport() : this.statusReport()), ...(fencing === undefined ? {} : { fencing }) };
  }

  // ---- the interpreter and its effects

  private buildInterpreter(actions: DaemonActions): Interpreter {
    const handlers = nodeEffects({
      actions,
      logger: this.logger,
      corosyncConf: this.options.corosyncConf,
      corosyncCheck: this.options.corosyncCheck,
      stateFile: this.stateFile,
      serviceMarker: this.serviceMarker,
      publisher: () => this.publisher,
      context: (role, failedNodes) => this.context(role === 'current' ? this.currentRole() : role, failedNodes),
      localNodeId: () => this.localNodeId ?? 0,
      now: () => this.clock.now(),
      broadcast: (data) => this.corosync.broadcast(data),
      reloadCorosync: () => {
        const session = this.corosync.current;
        if (session === undefined) throw new Error('not connected to corosync: cannot reload its configuration');
        session.reloadConfig();
      },
      rereadConfig: (why) => this.reloadCorosyncConf(why),
      nodesFailed: (nodeIds, atTakeover) => this.emit('nodesFailed', { nodeIds, atTakeover }),
      vmsDiscarded: (vms) => this.emit('vmsDiscarded', { vms }),
      desk: this.desk,
    });
    return new Interpreter({
      handlers,
      clock: this.clock,
      retry: this.options.retry,
      onClusterIpPlanned: () => actions.prepareClusterIp?.(),
      onDecision: onDecision(this.observers),
      onStep: onStep(this.observers),
      onRetry: (r) =>
        this.logger.warn({ event: 'step-retry', effect: r.effect.type, attempt: r.attempt, delayMs: r.delayMs, error: errorText(r.error) }, `${r.effect.type} failed, retrying in ${r.delayMs} ms`),
      onAtOnceError: (effect, err) => this.logger.error({ event: 'step', effect: effect.type, outcome: 'failed', error: errorText(err) }, `${effect.type}: failed: ${errorText(err)}`),
    });
  }

  private context(role: ContextRole, failedNodes?: readonly number[]): CommandContext {
    return {
      role,
      nodeId: this.localNodeId ?? 0,
      clusterIp: this.vmmgr?.cloudIp,
      ihttpdPort: this.conf?.ihttpd.ports[0],
      failedNodes,
    };
  }

  private currentRole(): ContextRole {
    const r = this.role;
    return r === 'unknown' ? 'suspended' : r;
  }

  private ensureEngine(localNodeId: number | undefined): void {
    if (this.interpreter === undefined || this.interpreter.state !== undefined || localNodeId === undefined) return;
    this.interpreter.start(initialState(localNodeId, this.persisted));
    this.logger.info({ event: 'engine', localNodeId, restoredRole: this.persisted?.lastRole ?? null }, 'decision engine ready');
    // The engine hears of the carrier by events only: a link already down at start is one.
    if (this.link !== undefined && !this.link.carrier) this.onCarrier(false);
    this.feedFencing(true);
  }

  /** The engine's fencing inputs (fencing-feeder.ts), at start and whenever they change. */
  private feedFencing(always: boolean): void {
    const event = this.fencing?.inputs(this.corosync.current, this.corosync.failureDetectionMs(), always);
    if (event !== undefined) this.feed(event);
  }

  private feed(event: EngineEvent): void {
    if (!this.running) return;
    this.interpreter?.feed(event);
  }

  // ---- corosync's news

  private onSessionOpened(session: CorosyncSession): void {
    this.ensureEngine(session.localNodeId);
    this.publisher.attach?.({
      localNodeId: session.localNodeId,
      send: (data) => session.send(data),
      reloadConfig: () => session.reloadConfig(),
      masterId: () => this.interpreter?.state?.masterId ?? null,
      configInstalled: () => void this.reloadCorosyncConf('config-distribution'),
      peerVersion: (nodeId, version) => this.feed({ type: 'configVersions', now: this.clock.now(), versions: { [nodeId]: version } }),
      localSide: () => {
        const s = this.interpreter?.state;
        return { role: this.role, master: s?.masterId ?? null, since: this.role === 'master' ? (s?.namedSince ?? null) : null };
      },
      configConflict: (c) => this.feed({ type: 'configConflict', now: this.clock.now(), ...c }),
    });
    // Fresh state: the configuration as it is now (re-read: it may have changed while corosync
    // was away, e.g. by `config sync`); the quorum handle delivers the current membership itself.
    this.feedConfig();
    this.feedFencing(false);
    void this.reloadCorosyncConf('connect');
  }

  private onQuorum(e: QuorumEvent): void {
    this.feedFencing(false);
    this.feed({ type: 'quorum', now: this.clock.now(), quorate: e.quorate, ringId: e.ringId, members: [...e.members] });
    // After every membership change: the members' config versions as cmap has them now. Each is
    // a round trip to corosync, busy right after a change: 15 of them blocked a 16-node new
    // master's event loop for ~160 ms before its takeover's first step. So now only those the
    // engine lacks (members that joined: versions are trusted only for members that stayed), which
    // the election may wait for; the rest, which cmap tracking keeps current, once the plan is done.
    const session = this.corosync.current;
    if (session === undefined) return;
    const known = this.interpreter?.state?.configVersions ?? {};
    const lacking = e.members.filter((id) => known[id] === undefined);
    if (lacking.length > 0) this.readMemberVersions(session, lacking);
    this.versionsRead ??= (async () => {
      await this.interpreter?.settled();
      this.versionsRead = undefined;
      const members = this.interpreter?.state?.quorum?.members;
      if (this.corosync.current === session && members !== undefined) this.readMemberVersions(session, members);
    })();
  }

  /** A read of the in-flight plan's end (settled() waits for it too). */
  private versionsRead: Promise<void> | undefined;

  private readMemberVersions(session: CorosyncSession, members: readonly number[]): void {
    let versions: Record<number, number>;
    try {
      versions = session.configVersions(members);
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
    if (decoded.type === HANDOVER || decoded.type === OPERATOR) {
      if (m.own) return; // sent without waiting for it (OperatorDesk.send)
      if (decoded.type === OPERATOR) return this.desk.onOperatorMessage(m.nodeId, validateOperatorBody(decoded.body));
      return this.desk.onMessage(m.nodeId, validateHandoverBody(decoded.body));
    }
    if (decoded.type !== FAILURE_RECORDS) {
      // Configuration distribution (src/cluster/config-publisher.ts); it ignores its own messages.
      if (!this.publisher.onMessage?.(m.nodeId, decoded)) this.logger.warn({ event: 'message-unhandled', from: m.nodeId, type: decoded.type }, `no handler for CPG message type ${decoded.type}`);
      return;
    }
    // Our own broadcast came back in agreed order: every member has it now.
    if (m.own) return this.corosync.ownDelivered();
    this.feed({ type: 'failureRecords', now: this.clock.now(), from: m.nodeId, ...validateFailureRecordsBody(decoded.body) });
  }

  /** The cluster IP's device lost or regained its carrier: the engine decides (src/engine/link.ts). */
  private onCarrier(up: boolean): void {
    const dev = this.link?.dev ?? '?';
    this.logger.warn({ event: 'link', dev, carrier: up }, `${dev}: carrier ${up ? 'back' : 'lost'}`);
    this.feed({ type: 'carrier', now: this.clock.now(), dev, up, confirmMs: this.corosync.failureDetectionMs() });
  }

  // ---- configuration

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
    engineVersion(loaded.view.configVersion, this.options.corosyncConf); // refuses a version the engine cannot compare
    logConfigWarnings(this.logger, 'corosync-conf', loaded.warnings);
    return loaded.view;
  }

  private feedConfig(): void {
    if (this.conf === undefined || this.vmmgr === undefined) return;
    this.feed({ type: 'config', now: this.clock.now(), view: clusterViewOf(this.conf, this.vmmgr.takeoverDelayMs) });
  }
}
