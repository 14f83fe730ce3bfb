// Crash-safe replacement of a file: write a temp file in the same directory, fsync it, keep the
// previous file as a backup, rename the temp file over the target, fsync the directory.
// rename(2) within one directory is atomic, so a reader (or a reboot) sees either the complete
// old file or the complete new one. A `beforeCommit` hook runs on the complete temp file
// before anything visible changes (used to run `corosync -t` on the exact bytes).

import { randomBytes } from 'node:crypto';
import { closeSync, fsync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { copyFile, link, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isTokenAlive, selfToken } from './process-identity';

export interface AtomicWriteOptions {
  /** Suffix of the backup of the previous file (default ".bak"); null keeps none. */
  readonly backupSuffix?: string | null;
  /** Mode of a new file (default 0o644); an existing file's mode is kept. */
  readonly mode?: number;
  /** Runs on the fsynced temp file; throwing aborts the write and leaves the target untouched. */
  readonly beforeCommit?: (tempPath: string) => Promise<void>;
}

const tempPrefix = (target: string): string => `.${basename(target)}.`;
const TEMP_SUFFIX = '.tmp';
/** A fresh temp name beside `target`, carrying this process's token (see removeStaleTempFiles). */
const tempPathFor = (target: string): string => join(dirname(target), `${tempPrefix(target)}${selfToken()}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`);

export async function atomicWriteFile(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(target);
  await removeStaleTempFiles(target);
  const temp = tempPathFor(target);
  const existingMode = await stat(target).then(
    (s) => s.mode & 0o7777,
    () => undefined,
  );
  const created: string[] = [temp];
  try {
    const fh = await open(temp, 'wx', existingMode ?? options.mode ?? 0o644);
    try {
      await fh.writeFile(data);
      await fh.chmod(existingMode ?? options.mode ?? 0o644); // open() applied the umask
      await fh.sync();
    } finally {
      await fh.close();
    }
    await options.beforeCommit?.(temp);
    const suffix = options.backupSuffix === undefined ? '.bak' : options.backupSuffix;
    if (suffix !== null && existingMode !== undefined) {
      const backupTemp = `${temp}.bak`;
      created.push(backupTemp);
      await link(target, backupTemp).catch(async () => {
        await copyFile(target, backupTemp);
        await fsyncPath(backupTemp, 'r+');
      });
      await rename(backupTemp, `${target}${suffix}`);
      // rename(2) does nothing when both names are links to the same inode, which is the case
      // when a writer was killed between its two renames (the backup is then the live file):
      // the link would stay behind, so remove it.
      await unlink(backupTemp).catch(() => undefined);
    }
    await rename(temp, target);
    await fsyncPath(dir, 'r');
  } catch (error) {
    await Promise.all(created.map((p) => unlink(p).catch(() => undefined)));
    throw error;
  }
}

/**
 * The same crash-safe replacement for a small file on a latency-critical path (the daemon's
 * write-ahead state), with as few thread-pool round trips as possible: the open, write, close,
 * rename are synchronous (microseconds each), only the two fsyncs (file, then directory) go to
 * the thread pool, so the event loop stays free while the disk syncs, and a busy machine costs
 * two waits for a CPU instead of a dozen. No backup, no hook, no search for stale temp files
 * (see removeStaleTempFiles). The file gets `mode` as given to open(2), i.e. less the umask.
 */
export async function atomicWriteSmallFile(target: string, data: string, mode = 0o644): Promise<void> {
  const temp = tempPathFor(target);
  try {
    const fd = openSync(temp, 'wx', mode);
    try {
      const bytes = Buffer.from(data, 'utf8');
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off);
      await fsyncFd(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, target);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // never created, or already renamed
    }
    throw error;
  }
  const dir = openSync(dirname(target), 'r');
  try {
    await fsyncFd(dir);
  } finally {
    closeSync(dir);
  }
}

function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const fh = await open(path, flags);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Removes temp files that killed writers of `target` left behind. Their names carry the
 * writer's pid and start time, so a recycled pid is not mistaken for the writer still at work.
 */
export async function removeStaleTempFiles(target: string): Promise<void> {
  const prefix = tempPrefix(target);
  const me = selfToken();
  const names = await readdir(dirname(target)).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !(name.endsWith(TEMP_SUFFIX) || name.endsWith(`${TEMP_SUFFIX}.bak`))) continue;
    const token = name.slice(prefix.length).split('.')[0];
    if (token !== me && !isTokenAlive(token)) {
      await unlink(join(dirname(target), name)).catch(() => undefined);
    }
  }
}
