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
  /** The `ip monitor` child failed or exited; it is restarted after `restartMs`. */
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

  constructor(
    readonly dev: string,
    private readonly options: { restartMs?: number; ipCommand?: string } = {},
  ) {
    super();
    this.current = readCarrier(dev);
  }

  /** The last known carrier state. */
  get carrier(): boolean {
    return this.current;
  }

  start(): void {
    if (this.closed || this.child) return;
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
      this.emit('error', new Error(`ip monitor link dev ${this.dev} ended (${signal ?? `exit ${code}`}): ${stderr.trim()}`));
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.start();
      }, this.options.restartMs ?? 1_000);
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
