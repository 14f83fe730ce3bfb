// Remembers that this daemon ran ServiceStartCommand in the current boot, so a restarted daemon
// on the master does not run it a second time: the engine restates `startService` when it
// reconciles after a restart (idempotent for systemd, not for an arbitrary configured command).
// The boot id makes the marker worthless after a reboot, when the service is not running.
import { readFile, rm } from 'node:fs/promises';
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

  constructor(stateDir: string) {
    this.file = new StateFile(join(stateDir, 'service-started.json'), { validate });
  }

  /** True when ServiceStartCommand succeeded in this boot and no stop ran since. */
  async isStarted(): Promise<boolean> {
    try {
      const marker = await this.file.load();
      return marker !== undefined && marker.bootId === (await currentBootId());
    } catch (err) {
      if (err instanceof StateFileError) return false; // unreadable: start again rather than never
      throw err;
    }
  }

  async markStarted(now: Date): Promise<void> {
    await this.file.save({ bootId: await currentBootId(), startedAt: now.toISOString() });
  }

  async clear(): Promise<void> {
    await rm(this.file.file, { force: true });
  }
}
