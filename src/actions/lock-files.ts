// VMmanager's lock files in the lock dir (default /tmp), docs/design.md §1:
// - `.lock.vmmgr.service`: this node is the master and runs VMmanager; corolistener owns it.
// - `.lock.vmmgr.relocated`: created by VMmanager itself once it has restored after a move.
//   corolistener only removes a stale one on a fresh takeover, never on its own restart.
// Every operation is "make it so" and reports whether it changed anything (for the log).
// The file system calls are synchronous on purpose: each is one metadata operation on a local
// directory (microseconds), and they sit on a takeover's critical path, where a thread-pool
// round trip per call waits for a CPU on a busy machine. The API stays promise-based.
import * as fs from 'node:fs';
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
      fs.closeSync(fs.openSync(this.servicePath, 'wx', 0o644));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = fs.lstatSync(this.servicePath);
      if (!st.isFile()) throw new Error(`${this.servicePath}: exists but is not a regular file`);
      return false;
    }
  }

  /** Removes the service lock if present; true when it was removed now. */
  async removeServiceLock(): Promise<boolean> {
    return removeIfPresent(this.servicePath);
  }

  /** Removes a stale relocated lock (fresh takeover only); true when it was removed now. */
  async removeRelocatedLock(): Promise<boolean> {
    return removeIfPresent(this.relocatedPath);
  }

  async hasServiceLock(): Promise<boolean> {
    return exists(this.servicePath);
  }

  async hasRelocatedLock(): Promise<boolean> {
    return exists(this.relocatedPath);
  }
}

function removeIfPresent(file: string): boolean {
  try {
    fs.unlinkSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

function exists(file: string): boolean {
  try {
    fs.lstatSync(file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}
