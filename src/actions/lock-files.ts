// VMmanager's lock files in the lock dir (default /tmp), DESIGN.md §1:
// - `.lock.vmmgr.service`: this node is the master and runs VMmanager; corolistener owns it.
// - `.lock.vmmgr.relocated`: created by VMmanager itself once it has restored after a move.
//   corolistener only removes a stale one on a fresh takeover, never on its own restart.
// Every operation is "make it so" and reports whether it changed anything (for the log).

import { promises as fs } from 'node:fs';
import * as path from 'node:path';

export const SERVICE_LOCK = '.lock.vmmgr.service';
export const RELOCATED_LOCK = '.lock.vmmgr.relocated';

export class LockFiles {
  constructor(readonly dir: string) {}

  get servicePath(): string {
    return path.join(this.dir, SERVICE_LOCK);
  }

  get relocatedPath(): string {
    return path.join(this.dir, RELOCATED_LOCK);
  }

  /** Creates the service lock if absent; true when it was created now. */
  async ensureServiceLock(): Promise<boolean> {
    try {
      // 'wx' fails on an existing file (and on a symlink planted in a shared /tmp).
      const h = await fs.open(this.servicePath, 'wx', 0o644);
      await h.close();
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.lstat(this.servicePath);
      if (!st.isFile()) throw new Error(`${this.servicePath}: exists but is not a regular file`);
      return false;
    }
  }

  /** Removes the service lock if present; true when it was removed now. */
  removeServiceLock(): Promise<boolean> {
    return removeIfPresent(this.servicePath);
  }

  /** Removes a stale relocated lock (fresh takeover only); true when it was removed now. */
  removeRelocatedLock(): Promise<boolean> {
    return removeIfPresent(this.relocatedPath);
  }

  hasServiceLock(): Promise<boolean> {
    return exists(this.servicePath);
  }

  hasRelocatedLock(): Promise<boolean> {
    return exists(this.relocatedPath);
  }
}

async function removeIfPresent(file: string): Promise<boolean> {
  try {
    await fs.unlink(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.lstat(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
