// Test-side driver of fixtures/binding-agent.cjs: a Node process running the built package
// inside one sandbox node (corosync's client IPC is per network namespace), spoken to in JSON
// lines. It collects every event the agent prints, with a timestamp.
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { NodeRef, SandboxCluster } from '../../src/sandbox';

const AGENT = path.join(__dirname, 'fixtures', 'binding-agent.cjs');

export interface AgentEvent {
  event: string;
  handle: string;
  at: number;
  payload: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- JSON from the child
}

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: { code?: string; message: string };
}

export class BindingAgent {
  readonly events: AgentEvent[] = [];
  /** Uncaught exceptions / unhandled rejections the agent reported. */
  readonly uncaught: unknown[] = [];
  readonly stderr: string[] = [];
  readonly #child: ChildProcess;
  readonly #replies = new Map<number, (reply: Reply) => void>();
  readonly #waiters = new Set<() => void>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  #exited: string | undefined;
  #exit: Promise<number | null>;

  constructor(
    cluster: SandboxCluster,
    readonly node: NodeRef,
  ) {
    this.#child = cluster.spawn(node, [process.execPath, AGENT], { mountNs: false, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exit = new Promise((resolve) =>
      this.#child.on('exit', (code, signal) => {
        // A crashed agent answers nothing more: fail what waits for it instead of timing out.
        this.#exited = `agent ${String(node)} exited (${signal ?? `code ${code}`}); stderr: ${this.stderr.slice(-5).join(' | ')}`;
        for (const reply of this.#replies.values()) reply({ id: 0, ok: false, error: { message: this.#exited } });
        resolve(code);
      }),
    );
    let markReady: () => void = () => undefined;
    this.#ready = new Promise((resolve) => (markReady = resolve));
    readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as Record<string, unknown>;
      if (message.ready) markReady();
      else if ('uncaught' in message) this.uncaught.push(message.uncaught);
      else if ('event' in message) this.events.push(message as unknown as AgentEvent);
      else this.#replies.get(message.id as number)?.(message as unknown as Reply);
      for (const wake of this.#waiters) wake();
    });
    readline.createInterface({ input: this.#child.stderr! }).on('line', (line) => this.stderr.push(line));
  }

  /** Sends a command; resolves with its result, rejects with the agent's error. */
  async request<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    await Promise.race([this.#ready, this.#exit]);
    if (this.#exited !== undefined) throw new Error(`${cmd}: ${this.#exited}`);
    const id = this.#nextId++;
    const reply = new Promise<Reply>((resolve) => this.#replies.set(id, resolve));
    this.#child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    const { ok, result, error } = await reply;
    this.#replies.delete(id);
    if (!ok) throw Object.assign(new Error(`agent ${String(this.node)} ${cmd}: ${error?.message}`), { code: error?.code });
    return result as T;
  }

  open(handle: string, kind: string, group?: string): Promise<unknown> {
    return this.request('open', { handle, kind, group });
  }

  call<T = unknown>(handle: string, method: string, ...args: unknown[]): Promise<T> {
    return this.request<T>('call', { handle, method, args });
  }

  eventsOf(handle: string, event: string): AgentEvent[] {
    return this.events.filter((e) => e.handle === handle && e.event === event);
  }

  /** Resolves with the first collected event (old or new) matching, or rejects after timeoutMs. */
  waitEvent(match: (e: AgentEvent) => boolean, what: string, timeoutMs = 15_000): Promise<AgentEvent> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(match);
        if (found === undefined) return false;
        this.#waiters.delete(wake);
        clearTimeout(timer);
        resolve(found);
        return true;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`node ${String(this.node)}: no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(this.events.slice(-5))}`));
      }, timeoutMs);
      if (!check()) this.#waiters.add(wake);
    });
  }

  /** Waits until `count` events match (for message streams). */
  async waitCount(match: (e: AgentEvent) => boolean, count: number, what: string, timeoutMs = 30_000): Promise<AgentEvent[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.filter(match);
      if (found.length >= count) return found;
      if (Date.now() > deadline) throw new Error(`node ${String(this.node)}: ${found.length}/${count} ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          this.#waiters.delete(wake);
          resolve();
        };
        this.#waiters.add(wake);
        setTimeout(wake, 200);
      });
    }
  }

  /** Asks the agent to close everything and exit; kills it if it does not. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.stdin!.write(JSON.stringify({ id: 0, cmd: 'exit' }) + '\n');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
    await this.#exit;
    clearTimeout(timer);
  }
}
