// Runs external commands as argv arrays (never through a shell), with a timeout that kills the
// whole process group, bounded captured output and a result that says exactly how it ended.
// Everything else in src/actions runs commands through the CommandRunner interface, so tests
// can fake it and the sandbox can wrap argv (e.g. `ip netns exec NS ...`).

import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { performance } from 'node:perf_hooks';

export interface RunOptions {
  /** Kill the process group after this long (default 30 s). */
  readonly timeoutMs?: number;
  /** Added to (and overriding) process.env. */
  readonly env?: Readonly<Record<string, string>>;
  /** Aborting kills the process group, like a timeout. */
  readonly signal?: AbortSignal;
  /** Called when the process has been spawned (e.g. to timestamp the first ARP for benchmarks). */
  readonly onSpawn?: () => void;
  /** Each stdout chunk as it arrives (e.g. to start a listening window when a tool prints its banner). */
  readonly onStdout?: (chunk: Buffer) => void;
  /** Bytes kept of stdout and of stderr each (default 64 KiB); the rest is counted, not kept. */
  readonly maxOutputBytes?: number;
  /** Written to the command's stdin, which is then closed (default: no stdin at all). */
  readonly input?: string;
}

export interface CommandResult {
  readonly argv: readonly string[];
  /** null when the process was killed by a signal or could not be started. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when stdout or stderr exceeded maxOutputBytes and was cut. */
  readonly truncated: boolean;
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Set when the process could not be started at all (e.g. ENOENT). */
  readonly spawnError?: string;
  readonly durationMs: number;
}

export interface CommandRunner {
  /** Never rejects for process-level failures: they are described by the result. */
  run(argv: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_MAX_OUTPUT_BYTES = 64 * 1024;
/** After SIGTERM to the group, SIGKILL follows this much later. */
const KILL_GRACE_MS = 2_000;
/**
 * After the main process exits, how long we still wait for its stdio to close: a grandchild
 * that inherited the pipes (a daemon started by a service script) must not hang us.
 */
const STDIO_DRAIN_MS = 200;

/** Quotes an argv for messages and logs only (it is never executed). */
export function formatArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

class BoundedBuffer {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    const room = this.limit - this.kept;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(part);
    this.kept += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/** The real runner: child_process.spawn in its own process group. */
export class ExecCommandRunner implements CommandRunner {
  run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    if (argv.length === 0) throw new TypeError('empty argv');
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const limit = options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES;
    const started = performance.now();
    return new Promise<CommandResult>((resolve) => {
      const stdout = new BoundedBuffer(limit);
      const stderr = new BoundedBuffer(limit);
      let timedOut = false;
      let aborted = false;
      let exitCode: number | null = null;
      let exitSignal: NodeJS.Signals | null = null;
      let spawnError: string | undefined;
      let done = false;
      let killTimer: NodeJS.Timeout | undefined;
      let drainTimer: NodeJS.Timeout | undefined;

      const child = spawn(argv[0], argv.slice(1), {
        env: { ...process.env, ...options.env },
        stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        // Own process group, so a timeout can kill everything the command started.
        detached: true,
      }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
      child.stdout.on('data', (c: Buffer) => {
        stdout.push(c);
        options.onStdout?.(c);
      });
      child.stderr.on('data', (c: Buffer) => stderr.push(c));
      if (child.stdin) {
        // A command that exits without reading its input: EPIPE is its business, not a crash.
        child.stdin.on('error', () => undefined);
        child.stdin.end(options.input);
      }

      const killGroup = (sig: NodeJS.Signals) => {
        if (child.pid === undefined) return;
        try {
          process.kill(-child.pid, sig);
        } catch {
          // The group is already gone.
        }
      };
      const terminate = () => {
        killGroup('SIGTERM');
        killTimer ??= setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS);
      };
      const timer = setTimeout(() => {
        timedOut = true;
        terminate();
      }, timeoutMs);
      const onAbort = () => {
        aborted = true;
        terminate();
      };
      if (options.signal?.aborted) onAbort();
      else options.signal?.addEventListener('abort', onAbort, { once: true });

      const finish = () => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearTimeout(drainTimer);
        clearTimeout(killTimer);
        // The main process is gone; what is left of a killed group must not outlive it.
        if (timedOut || aborted) killGroup('SIGKILL');
        options.signal?.removeEventListener('abort', onAbort);
        child.stdout.destroy();
        child.stderr.destroy();
        resolve({
          argv: [...argv],
          exitCode,
          signal: exitSignal,
          stdout: stdout.text(),
          stderr: stderr.text(),
          truncated: stdout.truncated || stderr.truncated,
          timedOut,
          aborted,
          spawnError,
          durationMs: performance.now() - started,
        });
      };
      child.on('spawn', () => options.onSpawn?.());
      child.on('error', (err) => {
        // Only spawn failures reach here (kill errors are caught above).
        spawnError = err.message;
        finish();
      });
      child.on('exit', (code, sig) => {
        exitCode = code;
        exitSignal = sig;
        drainTimer = setTimeout(finish, STDIO_DRAIN_MS);
      });
      child.on('close', finish);
    });
  }
}

/** A runner that prefixes every argv, e.g. `['ip', 'netns', 'exec', ns]` for the sandbox and tests. */
export function prefixRunner(inner: CommandRunner, prefix: readonly string[]): CommandRunner {
  return { run: (argv, options) => inner.run([...prefix, ...argv], options) };
}

/** A command that did not exit 0. `retryable` is false when retrying cannot help (not found). */
export class CommandFailedError extends Error {
  readonly retryable: boolean;
  constructor(readonly result: CommandResult) {
    super(`${formatArgv(result.argv)}: ${describeFailure(result)}`);
    this.name = 'CommandFailedError';
    this.retryable = !(result.spawnError && /ENOENT|EACCES/.test(result.spawnError));
  }
}

function describeFailure(r: CommandResult): string {
  if (r.spawnError) return `could not start: ${r.spawnError}`;
  const how = r.timedOut ? `timed out after ${Math.round(r.durationMs)} ms` : r.aborted ? 'aborted' : r.signal ? `killed by ${r.signal}` : `exited with code ${r.exitCode}`;
  const err = r.stderr.trim().split('\n').slice(-3).join(' | ');
  return err ? `${how}: ${err}` : how;
}

export function succeeded(r: CommandResult): boolean {
  return r.exitCode === 0 && !r.timedOut && !r.aborted && r.spawnError === undefined;
}

/** Runs argv and throws CommandFailedError unless it exited 0. */
export async function runChecked(runner: CommandRunner, argv: readonly string[], options?: RunOptions): Promise<CommandResult> {
  const result = await runner.run(argv, options);
  if (!succeeded(result)) throw new CommandFailedError(result);
  return result;
}
