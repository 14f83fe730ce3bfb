// The daemon's connection to corosync: one session at a time (a CorosyncPort session: quorum,
// the CPG group, cmap, cfg), reconnected with backoff after corosync goes away, events taken
// only from the newest session, and sends that wait for their own CPG delivery.
import type { Logger } from 'pino';
import type { QuorumEvent } from '../corosync/bindings';
import type { CorosyncHandlers, CorosyncPort, CorosyncSession } from './corosync-port';
import type { Clock } from './ports';

export interface SessionHandlers {
  /** A session opened; `localNodeId` is corosync's. Events it fired while opening follow. */
  opened(session: CorosyncSession): void;
  /** A session could not be opened (corosync not running); a retry is scheduled. */
  connectFailed(error: unknown): void;
  /** The open session went away (already closed here); a reconnect is scheduled. */
  disconnected(error: Error): void;
  /** The session closed (disconnect or stop): whatever used it must let go. */
  closed(): void;
  quorum(event: QuorumEvent): void;
  message(message: { nodeId: number; own: boolean; data: Buffer }): void;
  configChanged(): void;
  memberVersions(versions: Record<number, number>): void;
  groupMembership(event: { members: number[]; joined: number[] }): void;
}

export interface CorosyncConnectionOptions {
  port: CorosyncPort;
  clock: Clock;
  logger: Logger;
  handlers: SessionHandlers;
  /** Reconnect backoff (default 200 ms doubling to 5 s). */
  reconnect?: { initialMs: number; maxMs: number };
  /** How long a broadcast waits for its own message to come back (default 10 s). */
  deliveryTimeoutMs?: number;
}

export class CorosyncConnection {
  private session: CorosyncSession | undefined;
  private sessionToken: object | undefined;
  private reconnectDelay: number;
  private reconnectTimer: unknown;
  private running = false;
  private deliveryWaiters: Array<{ resolve(): void; reject(e: Error): void }> = [];

  constructor(private readonly options: CorosyncConnectionOptions) {
    this.reconnectDelay = options.reconnect?.initialMs ?? 200;
  }

  get connected(): boolean {
    return this.session !== undefined;
  }

  get current(): CorosyncSession | undefined {
    return this.session;
  }

  start(): void {
    this.running = true;
    this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.reconnectTimer !== undefined) this.options.clock.clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.close(new Error('daemon stopping'));
  }

  /** corosync's own time to declare a silent member gone (+10%), or 4 s when it is unknown. */
  failureDetectionMs(): number {
    const ms = this.session?.failureDetectionMs?.();
    return ms === undefined ? 4_000 : Math.ceil(ms * 1.1);
  }

  /** A cheap round trip to corosync (the watchdog feed's gate); throws when not connected or it fails. */
  ping(): void {
    if (this.session === undefined) throw new Error('not connected to corosync');
    this.session.ping?.();
  }

  /** Sends on the CPG group and waits until CPG delivers it back to us (agreed order: every member has it). */
  async broadcast(data: Buffer): Promise<void> {
    const session = this.session;
    if (session === undefined) throw new Error('not connected to corosync');
    const { clock } = this.options;
    const delivered = new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clock.clearTimeout(timer);
          resolve();
        },
        reject: (e: Error) => {
          clock.clearTimeout(timer);
          reject(e);
        },
      };
      const timer = clock.setTimeout(() => {
        this.deliveryWaiters = this.deliveryWaiters.filter((w) => w !== waiter);
        reject(new Error('own message not delivered back in time'));
      }, this.options.deliveryTimeoutMs ?? 10_000);
      this.deliveryWaiters.push(waiter);
    });
    delivered.catch(() => {}); // awaited below; this only keeps an early rejection from being "unhandled"
    try {
      await session.send(data);
    } catch (err) {
      this.deliveryWaiters.pop()?.reject(err instanceof Error ? err : new Error(String(err)));
    }
    await delivered;
  }

  /** Our own broadcast came back in agreed order. */
  ownDelivered(): void {
    this.deliveryWaiters.shift()?.resolve();
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (!this.running) return;
    const { handlers: h, logger } = this.options;
    // Events are only taken from the newest session; those a session fires while it is being
    // opened wait until the daemon has handled the opening.
    const token = {};
    this.sessionToken = token;
    const early: Array<() => void> = [];
    let opening = true;
    const handle = (fn: () => void): void => {
      if (token !== this.sessionToken || !this.running) return;
      if (opening) early.push(fn);
      else fn();
    };
    const portHandlers: CorosyncHandlers = {
      onQuorum: (e) => handle(() => h.quorum(e)),
      onMessage: (m) => handle(() => h.message(m)),
      onConfigChanged: () => handle(() => h.configChanged()),
      onMemberVersions: (versions) => handle(() => h.memberVersions(versions)),
      onDisconnect: (err) => handle(() => this.onDisconnect(err)),
      onGroupMembership: (e) => handle(() => h.groupMembership(e)),
    };
    let session: CorosyncSession;
    try {
      session = this.options.port.connect(portHandlers);
    } catch (err) {
      this.sessionToken = undefined;
      logger.warn({ event: 'corosync-connect', error: errorText(err), retryInMs: this.reconnectDelay }, 'cannot connect to corosync');
      h.connectFailed(err);
      this.scheduleReconnect();
      return;
    }
    this.session = session;
    this.reconnectDelay = this.options.reconnect?.initialMs ?? 200;
    const rings = session.ipcRings;
    const ipcRings = rings instanceof Error ? { error: errorText(rings) } : rings;
    logger.info({ event: 'corosync-connected', localNodeId: session.localNodeId, ...(ipcRings === undefined ? {} : { ipcRings }) }, 'connected to corosync');
    h.opened(session);
    opening = false;
    for (const fn of early) handle(fn);
  }

  private onDisconnect(err: Error): void {
    this.options.logger.error({ event: 'corosync-disconnect', error: errorText(err) }, 'corosync went away: quorum lost');
    this.close(err);
    this.options.handlers.disconnected(err);
    this.scheduleReconnect();
  }

  private close(reason: Error): void {
    const s = this.session;
    this.session = undefined;
    this.sessionToken = undefined;
    if (s !== undefined) this.options.handlers.closed();
    try {
      s?.close();
    } catch (err) {
      this.options.logger.warn({ event: 'corosync-close', error: errorText(err) }, 'closing corosync handles failed');
    }
    const waiters = this.deliveryWaiters;
    this.deliveryWaiters = [];
    for (const w of waiters) w.reject(new Error(`own message not delivered: ${reason.message}`));
  }

  private scheduleReconnect(): void {
    if (!this.running || this.reconnectTimer !== undefined) return;
    const delay = this.reconnectDelay;
    this.reconnectDelay = Math.min(this.options.reconnect?.maxMs ?? 5_000, delay * 2);
    this.reconnectTimer = this.options.clock.setTimeout(() => this.connect(), delay);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
