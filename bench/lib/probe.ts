// A long-running measuring process inside a sandbox node or client (a quorum probe, a ping),
// whose stdout lines are parsed as they arrive; the benchmark waits for the lines it needs.
import type { ChildProcess } from 'node:child_process';
import * as readline from 'node:readline';
import type { NodeRef, SandboxClient, SandboxCluster } from '../../dist/sandbox';

export type LineParser<T> = (line: string) => T | 'ready' | null;

export class LineProbe<T> {
  readonly samples: T[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly #exited: Promise<void>;
  #ready: Promise<void>;
  #failure: Error | null = null;

  /**
   * Watches `child` (started with stdout and stderr piped), described as `what` in errors.
   * `parse` turns a line into a sample, 'ready' (the probe is set up), or null (ignored); a throw
   * from it fails the probe. Without `readyLine` the probe counts as ready at once.
   */
  constructor(
    child: ChildProcess,
    readonly what: string,
    parse: LineParser<T>,
    opts: { readyLine?: boolean } = {},
  ) {
    this.#child = child;
    let markReady: () => void = () => undefined;
    this.#ready = opts.readyLine === false ? Promise.resolve() : new Promise((resolve) => (markReady = resolve));
    readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      try {
        const parsed = parse(line);
        if (parsed === 'ready') markReady();
        else if (parsed !== null) this.samples.push(parsed);
      } catch (e) {
        this.#failure ??= e as Error;
      }
      this.#wake();
    });
    readline.createInterface({ input: this.#child.stderr! }).on('line', (line) => this.stderr.push(line));
    this.#exited = new Promise((resolve) =>
      this.#child.on('exit', (code, sig) => {
        this.#failure ??= new Error(`${this.what} exited (${sig ?? `code ${code}`}); stderr: ${this.stderr.slice(-5).join(' | ')}`);
        this.#wake();
        resolve();
      }),
    );
    const ready = this.#ready;
    this.#ready = Promise.race([ready, this.#exited.then(() => Promise.reject(this.#failure ?? new Error(`${this.what} exited`)))]);
  }

  get pid(): number {
    return this.#child.pid!;
  }

  #wake(): void {
    for (const w of [...this.#waiters]) w();
  }

  /** Resolves once the probe printed 'ready' (rejects if it exits first). */
  ready(timeoutMs = 15_000): Promise<void> {
    return withTimeout(this.#ready, timeoutMs, () => `${this.what}: not ready within ${timeoutMs} ms`);
  }

  /** The first sample from index `from` on that matches; rejects on timeout or probe failure. */
  waitFor(match: (s: T) => boolean, what: string, timeoutMs: number, from = 0): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const found = this.samples.slice(from).find(match);
        if (found !== undefined) return finish(() => resolve(found));
        const failure = this.#failure;
        if (failure) return finish(() => reject(failure));
      };
      const finish = (settle: () => void): void => {
        this.#waiters.delete(check);
        clearTimeout(timer);
        settle();
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`${this.what}: no ${what} within ${timeoutMs} ms`))), timeoutMs);
      this.#waiters.add(check);
      check();
    });
  }

  /** SIGTERM, then SIGKILL after 3 s; resolves when it has exited. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 3_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export function withTimeout<T>(p: Promise<T>, ms: number, message: () => string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(message())), ms);
    p.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e) => (clearTimeout(timer), reject(e)),
    );
  });
}

/**
 * `argv` in node `node`, network namespace only (it reaches that node's corosync and sees the
 * host's files), printing a 'ready' line once set up.
 */
export function nodeProbe<T>(cluster: SandboxCluster, node: NodeRef, argv: readonly string[], parse: LineParser<T>): LineProbe<T> {
  const child = cluster.spawn(node, argv, { mountNs: false, stdio: ['ignore', 'pipe', 'pipe'] });
  return new LineProbe(child, `${argv[0]} in node ${String(node)}`, parse);
}

/** `argv` in a client namespace; ready as soon as it runs. */
export function clientProbe<T>(client: SandboxClient, argv: readonly string[], parse: LineParser<T>): LineProbe<T> {
  const child = client.spawn(argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new LineProbe(child, `${argv[0]} in client ${client.name}`, parse, { readyLine: false });
}
