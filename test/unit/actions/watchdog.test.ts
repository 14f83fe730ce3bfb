// src/actions/watchdog.ts against a FIFO, the way the integration tests' fake watchdog reads it.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WatchdogDevice, deviceTimeoutS } from '../../../src/actions/watchdog';

let dir: string | undefined;
afterEach(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

function fifo(): string {
  dir = mkdtempSync(join(tmpdir(), 'cl-watchdog-'));
  const path = join(dir, 'watchdog');
  execFileSync('mkfifo', [path]);
  return path;
}

function drain(fd: number): string {
  const buf = Buffer.alloc(64);
  try {
    const n = readSync(fd, buf, 0, 64, null);
    return buf.subarray(0, n).toString();
  } catch {
    return '';
  }
}

describe('WatchdogDevice', () => {
  it('refuses at once (no hang) when nothing reads the FIFO, naming the path', () => {
    const path = fifo();
    const w = new WatchdogDevice(path);
    expect(() => w.open()).toThrow(new RegExp(`cannot open the watchdog ${path}: .*ENXIO`));
    expect(w.opened).toBe(false);
  });

  it('feeds with a write per feed and disarms with the magic V', () => {
    const path = fifo();
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const w = new WatchdogDevice(path);
      w.open();
      w.feed();
      w.feed();
      expect(drain(reader)).toBe('11');
      w.disarm();
      expect(drain(reader)).toBe('V');
      expect(w.opened).toBe(false);
    } finally {
      closeSync(reader);
    }
  });

  it('a feed whose reader is gone fails (a missed feed) and reopens next time', () => {
    const path = fifo();
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const w = new WatchdogDevice(path);
    w.open();
    closeSync(reader);
    expect(() => w.feed()).toThrow(/cannot feed the watchdog/);
    expect(w.opened).toBe(false);
  });

  it("reads a real device's timeout from sysfs, nothing for other files", () => {
    dir = mkdtempSync(join(tmpdir(), 'cl-sysfs-'));
    execFileSync('mkdir', ['-p', join(dir, 'watchdog0'), join(dir, 'watchdog1')]);
    execFileSync('sh', ['-c', `echo 60 > ${join(dir, 'watchdog0', 'timeout')}; echo 15 > ${join(dir, 'watchdog1', 'timeout')}`]);
    expect(deviceTimeoutS('/dev/watchdog', dir)).toBe(60);
    expect(deviceTimeoutS('/dev/watchdog1', dir)).toBe(15);
    expect(deviceTimeoutS('/run/cl/watchdog', dir)).toBeUndefined();
  });
});
