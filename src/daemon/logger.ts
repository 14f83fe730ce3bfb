// The daemon's log: pino JSON lines in /usr/local/mgr5/var/corolistener.log (docs/design.md §1).
//
// Writes are synchronous: the volume is a few lines per membership change, and a line
// written just before a crash or a SIGKILL must be on disk, because it explains what the
// node did during a failover.
//
// logrotate: rename the file, then send SIGHUP; the daemon calls reopen() (see
// reopenOnSighup) and continues in a new file at the configured path.
//
// For humans: pino-pretty (a devDependency; `npx pino-pretty` or `npm i -g pino-pretty`):
//   tail -f /usr/local/mgr5/var/corolistener.log | npx pino-pretty --translateTime SYS:standard
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pino, { type DestinationStream, type Logger, type LevelWithSilent } from 'pino';

export const DEFAULT_LOG_FILE = '/usr/local/mgr5/var/corolistener.log';

export interface LoggerOptions {
  /** Log file; its directory is created if missing. Ignored when `stream` is given. */
  file?: string;
  /** Write to this stream instead of a file (tests, or stdout when running in the foreground). */
  stream?: DestinationStream;
  level?: LevelWithSilent;
  /** Fields on every line (e.g. { nodeId }). */
  base?: Record<string, unknown>;
  /** Called with each line's fields and level (e.g. `corolistener run` telling the terminal when corosync is unreachable). */
  onLine?: (fields: Record<string, unknown>, level: number) => void;
}

export interface DaemonLogger {
  logger: Logger;
  /** Reopens the log file at its path (after logrotate moved it); a no-op for streams. */
  reopen(): void;
  /** Flushes and closes the file; a no-op for streams. */
  close(): void;
}

export function createLogger(options: LoggerOptions = {}): DaemonLogger {
  const onLine = options.onLine;
  const pinoOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    hooks: {
      logMethod(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn, level: number) {
        if (onLine !== undefined && typeof args[0] === 'object' && args[0] !== null) onLine(args[0] as Record<string, unknown>, level);
        return method.apply(this, args);
      },
    },
  };
  if (options.stream) {
    return { logger: pino(pinoOptions, options.stream), reopen() {}, close() {} };
  }
  const file = options.file ?? DEFAULT_LOG_FILE;
  // sonic-boom's own `mkdir` only runs on the first open; create it here so the error
  // (e.g. a read-only /usr/local) is thrown synchronously, naming the directory.
  mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
  const destination = pino.destination({ dest: file, sync: true, mkdir: true, mode: 0o640 });
  return {
    logger: pino(pinoOptions, destination),
    reopen() {
      destination.reopen();
    },
    close() {
      destination.flushSync();
      destination.end();
    },
  };
}

/** Calls `log.reopen()` on every SIGHUP; returns the function that removes the handler. */
export function reopenOnSighup(log: DaemonLogger): () => void {
  const onHup = () => {
    try {
      log.reopen();
      log.logger.info({ event: 'log-reopened' }, 'log file reopened on SIGHUP');
    } catch (err) {
      // Losing the log must not take the daemon (and so the node's failover) down.
      process.stderr.write(`corolistener: cannot reopen log file: ${(err as Error).message}\n`);
    }
  };
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
}
