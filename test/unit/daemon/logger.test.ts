import { mkdtempSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, reopenOnSighup, type DaemonLogger } from '../../../src/daemon/logger';

let dir: string;
let log: DaemonLogger | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corolistener-log-'));
});

afterEach(() => {
  log?.close();
  log = undefined;
  rmSync(dir, { recursive: true, force: true });
});

function lines(file: string): Record<string, unknown>[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('daemon logger', () => {
  it('writes JSON lines to the file, creating missing directories', () => {
    const file = join(dir, 'a', 'b', 'corolistener.log');
    log = createLogger({ file, base: { nodeId: 4 } });
    log.logger.info({ event: 'decision', role: 'master' }, 'became master');
    const [line] = lines(file);
    expect(line).toMatchObject({ level: 30, event: 'decision', role: 'master', msg: 'became master', nodeId: 4, pid: process.pid });
    expect(typeof line.time).toBe('string');
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('continues in a new file at the same path after rename + reopen (logrotate)', () => {
    const file = join(dir, 'corolistener.log');
    log = createLogger({ file });
    log.logger.info('before rotation');
    renameSync(file, `${file}.1`);
    log.logger.info('after rename, before reopen');
    log.reopen();
    log.logger.info('after reopen');
    expect(lines(`${file}.1`).map((l) => l.msg)).toEqual(['before rotation', 'after rename, before reopen']);
    expect(lines(file).map((l) => l.msg)).toEqual(['after reopen']);
  });

  it('reopens on SIGHUP when asked to, and stops when the handler is removed', async () => {
    const file = join(dir, 'corolistener.log');
    log = createLogger({ file });
    const before = process.listenerCount('SIGHUP');
    const remove = reopenOnSighup(log);
    try {
      renameSync(file, `${file}.1`);
      process.kill(process.pid, 'SIGHUP');
      await new Promise((r) => setTimeout(r, 50));
      log.logger.info('after SIGHUP');
      expect(lines(file).map((l) => l.msg)).toEqual(['log file reopened on SIGHUP', 'after SIGHUP']);
    } finally {
      remove();
    }
    expect(process.listenerCount('SIGHUP')).toBe(before);
  });

  it('writes to an injected stream, at the requested level', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    log = createLogger({ stream, level: 'warn' });
    log.logger.info('dropped');
    log.logger.warn({ step: 'ip-add' }, 'retrying');
    expect(chunks.map((c) => JSON.parse(c))).toEqual([expect.objectContaining({ level: 40, step: 'ip-add', msg: 'retrying' })]);
  });

  it('fails at creation, naming the path, when the directory cannot be created', () => {
    const blocker = join(dir, 'file');
    log = createLogger({ file: blocker });
    log.logger.info('x');
    expect(() => createLogger({ file: join(blocker, 'sub', 'corolistener.log') })).toThrow(blocker);
  });
});
