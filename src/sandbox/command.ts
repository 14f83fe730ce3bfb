// Running commands as argv arrays (never through a shell), asynchronously for normal work and
// synchronously for teardown from a process 'exit' handler, where nothing async can run.
import { spawn, spawnSync } from 'node:child_process';

export interface CommandResult {
  /** Exit code, or null when the process was ended by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this many ms. Default 30000. */
  timeoutMs?: number;
  /** Written to the command's stdin (then closed). */
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export class CommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: CommandResult,
  ) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.code}`;
    const err = result.stderr.trim() || result.stdout.trim();
    super(`${argv.join(' ')} failed (${how})${err ? `: ${err}` : ''}`);
    this.name = 'CommandError';
  }
}

export function runCommand(argv: readonly string[], opts: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = argv;
    if (!file) throw new Error('runCommand: empty argv');
    const child = spawn(file, args, { env: opts.env, cwd: opts.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    child.stdin.on('error', () => {}); // the command may exit without reading its input
    child.stdin.end(opts.input ?? '');
  });
}

/** Run and require exit code 0; resolves to stdout. */
export async function runChecked(argv: readonly string[], opts: RunOptions = {}): Promise<string> {
  const result = await runCommand(argv, opts);
  if (result.code !== 0) throw new CommandError(argv, result);
  return result.stdout;
}

export function runSync(argv: readonly string[], timeoutMs = 10_000): CommandResult {
  const [file, ...args] = argv;
  if (!file) throw new Error('runSync: empty argv');
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: timeoutMs, killSignal: 'SIGKILL' });
  if (r.error && !r.signal) throw r.error;
  return { code: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}
