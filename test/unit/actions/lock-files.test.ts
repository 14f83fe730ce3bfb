import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockFiles, RELOCATED_LOCK, SERVICE_LOCK } from '../../../src/actions/lock-files';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'corolistener-locks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('LockFiles', () => {
  it('creates and removes the service lock idempotently, reporting changes', async () => {
    const locks = new LockFiles(dir);
    expect(await locks.ensureServiceLock()).toBe(true);
    expect(existsSync(path.join(dir, SERVICE_LOCK))).toBe(true);
    expect(await locks.ensureServiceLock()).toBe(false);
    expect(await locks.hasServiceLock()).toBe(true);
    expect(await locks.removeServiceLock()).toBe(true);
    expect(await locks.removeServiceLock()).toBe(false);
    expect(existsSync(path.join(dir, SERVICE_LOCK))).toBe(false);
  });

  it('removes a stale relocated lock, and repeating is harmless; it never creates one', async () => {
    const locks = new LockFiles(dir);
    writeFileSync(path.join(dir, RELOCATED_LOCK), '');
    expect(await locks.hasRelocatedLock()).toBe(true);
    expect(await locks.removeRelocatedLock()).toBe(true);
    expect(await locks.removeRelocatedLock()).toBe(false);
    await locks.ensureServiceLock();
    expect(existsSync(path.join(dir, RELOCATED_LOCK))).toBe(false);
  });

  it('refuses a service lock path that is not a regular file (e.g. a planted symlink)', async () => {
    symlinkSync(path.join(dir, 'elsewhere'), path.join(dir, SERVICE_LOCK));
    await expect(new LockFiles(dir).ensureServiceLock()).rejects.toThrow(/not a regular file/);
    expect(existsSync(path.join(dir, 'elsewhere'))).toBe(false);
  });

  it('reports a missing lock dir as an error rather than pretending', async () => {
    await expect(new LockFiles(path.join(dir, 'missing')).ensureServiceLock()).rejects.toThrow(/ENOENT/);
    mkdirSync(path.join(dir, 'missing'));
    expect(await new LockFiles(path.join(dir, 'missing')).ensureServiceLock()).toBe(true);
  });
});
