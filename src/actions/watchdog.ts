// The watchdog device (vmmgr.conf WatchdogDevice): Linux's watchdog API without ioctls. Opening
// /dev/watchdog arms it (softdog, or a hardware watchdog); any write feeds it; writing the magic
// character 'V' right before close disarms it (drivers without `nowayout`). A crash closes the
// file without 'V': the watchdog stays armed and resets the node unless the restarted daemon
// feeds it in time. Any file that accepts writes works the same way, so tests use a FIFO read by
// a fake watchdog.
//
// Every call is synchronous and short: a feed must come from the daemon's own event loop (a
// blocked loop must starve the watchdog), and a feed that cannot be written is a missed feed.
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

export interface WatchdogPort {
  readonly path: string;
  /** Opens (arms) the device; throws with the path named when it cannot. */
  open(): void;
  /** One feed; throws when it cannot be written (a missed feed). */
  feed(): void;
  /** Magic close: 'V', then close (the node is no longer protected). */
  disarm(): void;
  readonly opened: boolean;
}

export class WatchdogDevice implements WatchdogPort {
  private fd: number | null = null;

  constructor(readonly path: string) {}

  get opened(): boolean {
    return this.fd !== null;
  }

  open(): void {
    if (this.fd !== null) return;
    try {
      // Non-blocking: a FIFO without a reader fails at once (ENXIO) instead of hanging the loop.
      this.fd = openSync(this.path, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (err) {
      throw new Error(`cannot open the watchdog ${this.path}: ${(err as Error).message}`);
    }
  }

  feed(): void {
    if (this.fd === null) this.open();
    try {
      writeSync(this.fd as number, '1');
    } catch (err) {
      // EAGAIN (a full FIFO), EPIPE (no reader), EIO: reopened on the next feed.
      this.closeQuietly();
      throw new Error(`cannot feed the watchdog ${this.path}: ${(err as Error).message}`);
    }
  }

  disarm(): void {
    if (this.fd === null) return;
    try {
      writeSync(this.fd, 'V');
    } finally {
      this.closeQuietly();
    }
  }

  private closeQuietly(): void {
    const fd = this.fd;
    this.fd = null;
    if (fd === null) return;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  }
}

/**
 * The device's own timeout in seconds, when the kernel says (/sys/class/watchdog/NAME/timeout for
 * /dev/NAME; /dev/watchdog is watchdog0); undefined for anything else (a FIFO in tests).
 */
export function deviceTimeoutS(path: string, sysfs = '/sys/class/watchdog'): number | undefined {
  const name = basename(path) === 'watchdog' ? 'watchdog0' : basename(path);
  if (!path.startsWith('/dev/') || !/^watchdog[0-9]*$/.test(name)) return undefined;
  try {
    const value = Number(readFileSync(`${sysfs}/${name}/timeout`, 'utf8').trim());
    return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  } catch {
    return undefined;
  }
}
