// Self-fencing on a real node: the daemon's side of src/engine/fencing.ts. The engine says whether
// the node is safe; this keeps the timer, asks corosync for a cheap round trip and feeds the
// watchdog (src/actions/watchdog.ts) from the daemon's own event loop, several times per
// WatchdogTimeout, only while both answer yes. A blocked loop, a hung corosync, quorum lost with a
// suspend not confirmed: no feed, and the watchdog resets the node WatchdogTimeout after the last.
// A clean stop disarms it (magic close); a crash does not (systemd restarts the daemon within the
// timeout: RestartSec in systemd/corolistener.service).
import type { Logger } from 'pino';
import { deviceTimeoutS, type WatchdogPort } from '../actions/watchdog';
import type { FenceSafety, PendingFence } from '../engine/fencing';
import type { FencingEvent } from '../engine/types';
import type { CorosyncSession } from './corosync-port';
import type { Clock } from './ports';

export interface FencingFeederOptions {
  /** null: no WatchdogDevice, fencing off. */
  device: WatchdogPort | null;
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /** The engine's answer now (undefined: no engine yet). */
  safety(): FenceSafety | undefined;
  /** A cheap corosync round trip; throws when corosync does not answer (or is not connected). */
  roundTrip(): void;
  /** Between feeds (default: a fifth of the timeout, 100 ms..2 s). */
  intervalMs?: number;
  /** The device was opened late (it could not be at start): the engine must now be told of it. */
  onArmed?: () => void;
}

/** What status, -l --json and the control socket show of fencing. */
export interface FencingReport {
  enabled: boolean;
  device: string | null;
  timeoutS: number | null;
  /** The device is open (armed) and this daemon feeds it while the node is safe. */
  armed: boolean;
  /** Fed on the last tick. */
  feeding: boolean;
  /** Why (not): the engine's answer, or the round trip's or the device's error. */
  why: string;
  lastFeedAt: string | null;
  /** Restores this master holds back until each node's fence window ends. */
  pending: Array<{ nodeId: number; leftAt: string; endsAt: string | null; waitingFor: PendingFence['waitingFor'] }>;
}

export class FencingFeeder {
  private timer: unknown;
  private lastFeedAt: number | null = null;
  private feeding = false;
  private why = 'not started';
  private running = false;
  private lastInputs = '';

  private readonly o: FencingFeederOptions;

  constructor(o: FencingFeederOptions) {
    this.o = o;
    // The window announced must cover the device's real timeout: a kernel that says it waits
    // longer than WatchdogTimeout wins (and is told), never the other way round.
    const kernel = o.device === null ? undefined : deviceTimeoutS(o.device.path);
    if (kernel !== undefined && kernel * 1000 > o.timeoutMs) {
      o.logger.warn(
        { event: 'fencing-timeout', device: o.device?.path, deviceTimeoutS: kernel, watchdogTimeoutS: o.timeoutMs / 1000 },
        `the watchdog's own timeout is ${kernel} s, above WatchdogTimeout: ${kernel} s is used`,
      );
      this.o = { ...o, timeoutMs: kernel * 1000 };
    }
  }

  get enabled(): boolean {
    return this.o.device !== null;
  }

  get intervalMs(): number {
    return this.o.intervalMs ?? Math.min(2000, Math.max(100, Math.floor(this.o.timeoutMs / 5)));
  }

  start(): void {
    const { device, logger } = this.o;
    if (device === null) {
      this.why = 'no WatchdogDevice in vmmgr.conf';
      logger.warn({ event: 'fencing-off' }, 'self-fencing is off (no WatchdogDevice in vmmgr.conf): a node that hangs or cannot suspend its VMs is not reset, and restores do not wait for it');
      return;
    }
    this.running = true;
    try {
      device.open();
      logger.info(
        { event: 'fencing-armed', device: device.path, timeoutS: this.o.timeoutMs / 1000, intervalMs: this.intervalMs },
        `watchdog ${device.path} armed: fed every ${this.intervalMs} ms while this node is safe`,
      );
    } catch (err) {
      logger.error({ event: 'fencing-open', device: device.path, error: (err as Error).message }, `${(err as Error).message}; retried on every tick`);
    }
    this.schedule();
  }

  /** Clean stop: magic close, the node is unprotected from now on. */
  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    const { device, logger } = this.o;
    if (device === null || !device.opened) return;
    try {
      device.disarm();
      logger.warn({ event: 'fencing-disarmed', device: device.path }, `watchdog ${device.path} disarmed (magic close): this node is no longer protected by self-fencing`);
    } catch (err) {
      logger.error({ event: 'fencing-disarm', device: device.path, error: (err as Error).message }, `watchdog ${device.path} could not be disarmed: it will reset the node`);
    }
  }

  /**
   * The engine's fencing event when its inputs changed (or `always`): the watchdog, this node's
   * margin from corosync's failure detection, votequorum's two-node flags from the session.
   */
  inputs(session: CorosyncSession | undefined, detectionMs: number, always: boolean): FencingEvent | undefined {
    let flags;
    try {
      flags = session?.quorumFlags?.();
    } catch (err) {
      this.o.logger.warn({ event: 'votequorum', error: (err as Error).message }, 'cannot read votequorum flags');
    }
    // Only an armed watchdog is announced: a node whose device could not be opened cannot be
    // fenced, so the master must not count on it (it restores at once, as without fencing).
    const armed = this.o.device?.opened === true;
    const key = JSON.stringify([flags, detectionMs, armed]);
    if (!always && key === this.lastInputs) return undefined;
    this.lastInputs = key;
    return fencingEvent(this.o.clock.now(), armed ? this.o.timeoutMs / 1000 : null, detectionMs, flags);
  }

  /** One tick: feed if safe (public for tests; the timer calls it). */
  tick(): void {
    const s = this.o.safety();
    if (s === undefined || !s.safe) return this.starve(s?.why ?? 'no decision yet');
    try {
      this.o.roundTrip();
    } catch (err) {
      return this.starve(`corosync does not answer: ${(err as Error).message}`);
    }
    const wasOpen = this.o.device?.opened === true;
    try {
      this.o.device?.feed();
    } catch (err) {
      return this.starve((err as Error).message);
    }
    if (!wasOpen) this.o.onArmed?.();
    this.lastFeedAt = this.o.clock.now();
    if (!this.feeding) this.o.logger.info({ event: 'fencing-feed', why: s.why }, `watchdog fed (${s.why})`);
    this.feeding = true;
    this.why = s.why;
  }

  report(pending: readonly PendingFence[]): FencingReport {
    const d = this.o.device;
    const iso = (ms: number): string => new Date(ms).toISOString();
    return {
      enabled: d !== null,
      device: d?.path ?? null,
      timeoutS: d === null ? null : this.o.timeoutMs / 1000,
      armed: d?.opened ?? false,
      feeding: this.feeding,
      why: this.why,
      lastFeedAt: this.lastFeedAt === null ? null : iso(this.lastFeedAt),
      pending: pending.map((p) => ({ nodeId: p.nodeId, leftAt: iso(p.leftAt), endsAt: p.endsAt === null ? null : iso(p.endsAt), waitingFor: p.waitingFor })),
    };
  }

  private starve(why: string): void {
    // Said once per change: the log must show when the node stopped feeding and why.
    if (this.feeding || why !== this.why) this.o.logger.warn({ event: 'fencing-starve', why }, `watchdog not fed: ${why}`);
    this.feeding = false;
    this.why = why;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = this.o.clock.setTimeout(() => {
      this.tick();
      this.schedule();
    }, this.intervalMs);
  }
}

/** Slack on top of corosync's failure detection in the fence window a node announces (ms). */
export const FENCE_SLACK_MS = 2000;

/**
 * The engine's fencing event: the watchdog (timeout s, null: none) and the margin this node adds
 * to its fence window: how much later than the master it can learn of its own quorum loss (corosync's
 * token + consensus, +10%) plus FENCE_SLACK_MS. Two-node risk: two_node without a registered qdevice.
 */
export function fencingEvent(now: number, timeoutS: number | null, detectionMs: number, flags: { twoNode: boolean; qdeviceRegistered: boolean } | undefined): FencingEvent {
  return {
    type: 'fencing',
    now,
    watchdog: timeoutS === null ? null : { timeoutMs: timeoutS * 1000, marginMs: detectionMs + FENCE_SLACK_MS },
    twoNodeWithoutQdevice: flags !== undefined && flags.twoNode && !flags.qdeviceRegistered,
  };
}
