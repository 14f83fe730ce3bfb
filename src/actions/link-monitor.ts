// Watches the carrier of the cluster IP's device, as keepalived's `track_interface` does: a
// node whose uplink is gone (cable, switch port) must not keep the cluster IP, because when
// the link comes back it may already be held by the master elected meanwhile, while this
// node's corosync is still gathering a new membership and reports its old one. Event-driven:
// one `ip -o monitor link dev DEV` child prints netlink link events; nothing runs while the
// link is steady (no timer, no polling).
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface LinkMonitorEvents {
  /** The carrier changed (true: LOWER_UP). */
  carrier: [boolean];
  /**
   * The `ip monitor` child failed or exited; it is restarted after `restartMs`, doubling after
   * each quick failure up to `maxRestartMs` (a missing CloudIpDev is not retried, and so not
   * reported, every second forever), back to `restartMs` once a child has run for a while.
   */
  error: [Error];
}

/** The carrier of one `ip -o monitor link` line for `dev`, or undefined for other lines. */
export function carrierOfMonitorLine(line: string, dev: string): boolean | undefined {
  // "2: vmbr0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 ... state DOWN ..."; a line
  // starting with "Deleted" reports the device gone.
  const m = /^(Deleted\s+)?\d+:\s+([^:@\s]+)(?:@[^:\s]+)?:\s+<([^>]*)>/.exec(line);
  if (!m || m[2] !== dev) return undefined;
  if (m[1]) return false;
  return m[3]!.split(',').includes('LOWER_UP');
}

/** The carrier as sysfs reports it now; false when the device is down or missing. */
export function readCarrier(dev: string): boolean {
  try {
    return readFileSync(`/sys/class/net/${dev}/carrier`, 'utf8').trim() === '1';
  } catch {
    return false; // EINVAL while administratively down, ENOENT when missing
  }
}

export class LinkMonitor extends EventEmitter<LinkMonitorEvents> {
  private child: ChildProcess | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private current: boolean;
  /** Failures in a row of children that ended soon after starting. */
  private quickFailures = 0;

  constructor(
    readonly dev: string,
    private readonly options: { restartMs?: number; maxRestartMs?: number; ipCommand?: string } = {},
  ) {
    super();
    this.current = readCarrier(dev);
  }

  /** The last known carrier state. */
  get carrier(): boolean {
    return this.current;
  }

  /** How long the next restart waits (after the last failure). */
  get nextRestartMs(): number {
    const base = this.options.restartMs ?? 1_000;
    return Math.min(base * 2 ** Math.max(0, this.quickFailures - 1), this.options.maxRestartMs ?? 60_000);
  }

  start(): void {
    if (this.closed || this.child) return;
    const startedAt = Date.now();
    const child = spawn(this.options.ipCommand ?? 'ip', ['-o', 'monitor', 'link', 'dev', this.dev], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-500)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const carrier = carrierOfMonitorLine(line, this.dev);
      if (carrier !== undefined) this.set(carrier);
    });
    child.on('error', (err) => this.emit('error', err));
    child.on('close', (code, signal) => {
      this.child = undefined;
      if (this.closed) return;
      // A child that ran for a while (10 s, or ten restart periods) was a working monitor:
      // start the backoff over.
      const base = this.options.restartMs ?? 1_000;
      this.quickFailures = Date.now() - startedAt >= Math.max(10 * base, 10_000) ? 1 : this.quickFailures + 1;
      const delay = this.nextRestartMs;
      this.emit('error', new Error(`ip monitor link dev ${this.dev} ended (${signal ?? `exit ${code}`}): ${stderr.trim()}; retrying in ${delay} ms`));
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.start();
      }, delay);
    });
    // An event between our first read and the monitor starting would be missed: read again.
    this.set(readCarrier(this.dev));
  }

  close(): void {
    this.closed = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.child?.kill();
    this.child = undefined;
  }

  private set(carrier: boolean): void {
    if (carrier === this.current) return;
    this.current = carrier;
    this.emit('carrier', carrier);
  }
}
