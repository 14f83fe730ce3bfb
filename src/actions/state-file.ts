// The daemon's small persistent state (last role, ring id, VMs suspended by us, ...) as JSON,
// written atomically so a crash leaves the old or the new file, never a torn one. A corrupt
// file is an error naming the file: the caller decides, we never silently assume a default
// that could make the daemon repeat a takeover or resume VMs restored elsewhere.

import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export class StateFileError extends Error {
  constructor(readonly file: string, detail: string, options?: { cause?: unknown }) {
    super(`${file}: ${detail}`, options);
    this.name = 'StateFileError';
  }
}

/** Writes `data` to `file` atomically: temp file in the same directory, fsync, rename, fsync dir. */
export async function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  let renamed = false;
  try {
    const handle = await fs.open(tmp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
    renamed = true;
    const dirHandle = await fs.open(dir, 'r');
    try {
      await dirHandle.sync();
    } finally {
      await dirHandle.close();
    }
  } finally {
    if (!renamed) await fs.rm(tmp, { force: true });
  }
}

export interface StateFileOptions<T> {
  /** Checks the parsed JSON and returns it typed; throws (any Error) when it does not fit. */
  readonly validate: (raw: unknown) => T;
}

export class StateFile<T> {
  constructor(
    readonly file: string,
    private readonly options: StateFileOptions<T>,
  ) {}

  /** The saved state, undefined when there is none; StateFileError when unreadable or invalid. */
  async load(): Promise<T | undefined> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StateFileError(this.file, `cannot read: ${(e as Error).message}`, { cause: e });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new StateFileError(this.file, `corrupt (not JSON): ${(e as Error).message}`, { cause: e });
    }
    try {
      return this.options.validate(raw);
    } catch (e) {
      throw new StateFileError(this.file, `invalid state: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Validates, then replaces the file atomically (creating its directory if needed). */
  async save(state: T): Promise<void> {
    const json = JSON.stringify(state, null, 2) + '\n';
    // Refuse to write what load() would reject.
    try {
      this.options.validate(JSON.parse(json));
    } catch (e) {
      throw new StateFileError(this.file, `refusing to save invalid state: ${(e as Error).message}`, { cause: e });
    }
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    await writeFileAtomic(this.file, json);
    await removeStaleTempFiles(this.file);
  }

  /**
   * Moves an unreadable file aside (to FILE.corrupt-TIMESTAMP, kept for inspection) so the
   * daemon can start from a state it chose explicitly. Returns the new path, or undefined
   * when there was no file.
   */
  async quarantine(now: Date = new Date()): Promise<string | undefined> {
    const aside = `${this.file}.corrupt-${now.toISOString().replace(/[:.]/g, '-')}`;
    try {
      await fs.rename(this.file, aside);
      return aside;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
  }
}

/** Temp files left by writers that were killed mid-write (their pid is gone). */
async function removeStaleTempFiles(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.tmp-`;
  for (const name of await fs.readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (!Number.isInteger(pid) || pid === process.pid || pidAlive(pid)) continue;
    await fs.rm(path.join(dir, name), { force: true });
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
