// The daemon's small persistent state (last role, ring id, VMs suspended by us, ...) as JSON,
// written atomically so a crash leaves the old or the new file, never a torn one. A corrupt
// file is an error naming the file: the caller decides, we never silently assume a default
// that could make the daemon repeat a takeover or resume VMs restored elsewhere.

import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { atomicWriteSmallFile, removeStaleTempFiles } from '../util/atomic-file';

export class StateFileError extends Error {
  constructor(
    readonly file: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
    this.name = 'StateFileError';
  }
}

export interface StateFileOptions<T> {
  /** Checks the parsed JSON and returns it typed; throws (any Error) when it does not fit. */
  readonly validate: (raw: unknown) => T;
}

export class StateFile<T> {
  /** The directory was made and stale temp files looked for (once per instance: see save). */
  private prepared = false;

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
    // Written ahead of every takeover, and nothing may proceed before it is on disk: with as
    // few thread-pool round trips as possible (see atomicWriteSmallFile). The directory and
    // other processes' leftover temp files are seen to once; should the directory vanish later,
    // the write fails (ENOENT) and the next attempt makes it again.
    if (!this.prepared) {
      await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
      await removeStaleTempFiles(this.file);
    }
    try {
      // No backup: the state is rewritten on every decision; the old one is of no use.
      await atomicWriteSmallFile(this.file, json, 0o600);
      this.prepared = true;
    } catch (e) {
      this.prepared = false;
      throw e;
    }
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
