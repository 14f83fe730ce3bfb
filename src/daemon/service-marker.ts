// Remembers that this daemon ran ServiceStartCommand in the current boot, so a restarted daemon
// on the master does not run it a second time: the engine restates `startService` when it
// reconciles after a restart (idempotent for systemd, not for an arbitrary configured command).
// The boot id makes the marker worthless after a reboot, when the service is not running.
import { rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StateFile, StateFileError } from '../actions/state-file';

interface Marker {
  bootId: string;
  startedAt: string;
}

function validate(raw: unknown): Marker {
  const m = raw as Partial<Marker>;
  if (typeof m !== 'object' || m === null || typeof m.bootId !== 'string' || typeof m.startedAt !== 'string') {
    throw new Error('expected {bootId, startedAt} strings');
  }
  return { bootId: m.bootId, startedAt: m.startedAt };
}

async function currentBootId(): Promise<string> {
  // Linux; elsewhere a constant, i.e. the marker holds until stopService removes it.
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
}

export class ServiceMarker {
  private readonly file: StateFile<Marker>;
  /**
   * What the file says, once known: only this daemon writes it, so after the first read it is
   * known without I/O (the check runs right before a takeover's ServiceStartCommand).
   */
  private known: boolean | undefined;

  constructor(stateDir: string) {
    this.file = new StateFile(join(stateDir, 'service-started.json'), { validate });
  }

  /** True when ServiceStartCommand succeeded in this boot and no stop ran since. */
  async isStarted(): Promise<boolean> {
    if (this.known !== undefined) return this.known;
    try {
      const marker = await this.file.load();
      this.known = marker !== undefined && marker.bootId === (await currentBootId());
    } catch (err) {
      if (!(err instanceof StateFileError)) throw err;
      this.known = false; // unreadable: start again rather than never
    }
    return this.known;
  }

  async markStarted(now: Date): Promise<void> {
    this.known = undefined;
    await this.file.save({ bootId: await currentBootId(), startedAt: now.toISOString() });
    this.known = true;
  }

  async clear(): Promise<void> {
    this.known = undefined;
    // Synchronous: one unlink on a takeover's critical path, no thread-pool round trip.
    rmSync(this.file.file, { force: true });
    this.known = false;
  }
}
