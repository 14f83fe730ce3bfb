// Test-side driver of fixtures/config-agent.cjs: configuration distribution running inside one
// sandbox node (real CPG group, Cfg reload, the node's corosync.conf), spoken to in JSON lines.
import type { ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';
import type { NodeRef, SandboxCluster } from '../../src/sandbox';

const AGENT = path.join(__dirname, 'fixtures', 'config-agent.cjs');

export interface AgentLog {
  log: string;
  msg?: string;
  [field: string]: unknown;
}

export class ConfigAgent {
  readonly logs: AgentLog[] = [];
  readonly problems: string[] = [];
  readonly #child: ChildProcess;
  readonly #replies = new Map<number, (reply: { ok: boolean; result?: unknown; error?: { message: string } }) => void>();
  readonly #ready: Promise<void>;
  #nextId = 1;
  readonly #exit: Promise<number | null>;

  constructor(
    cluster: SandboxCluster,
    readonly node: NodeRef,
    keyFile: string,
  ) {
    this.#child = cluster.spawn(node, [process.execPath, AGENT, cluster.confPath(node), keyFile], { mountNs: false, stdio: ['pipe', 'pipe', 'pipe'] });
    this.#exit = new Promise((resolve) => this.#child.on('exit', (code) => resolve(code)));
    let markReady: () => void = () => undefined;
    let fail: (e: Error) => void = () => undefined;
    this.#ready = new Promise((resolve, reject) => {
      markReady = resolve;
      fail = reject;
    });
    void this.#exit.then((code) => fail(new Error(`config agent in ${String(node)} exited (${code}): ${this.problems.join('\n')}`)));
    readline.createInterface({ input: this.#child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, unknown>;
      if (m.ready) markReady();
      else if ('uncaught' in m || 'fatal' in m) this.problems.push(String(m.uncaught ?? m.fatal));
      else if ('log' in m) this.logs.push(m as AgentLog);
      else this.#replies.get(m.id as number)?.(m as never);
    });
    readline.createInterface({ input: this.#child.stderr! }).on('line', (line) => this.problems.push(line));
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  async request<T = unknown>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    await this.#ready;
    const id = this.#nextId++;
    const reply = new Promise<{ ok: boolean; result?: unknown; error?: { message: string } }>((resolve) => this.#replies.set(id, resolve));
    this.#child.stdin!.write(JSON.stringify({ id, cmd, ...args }) + '\n');
    const r = await reply;
    if (!r.ok) throw new Error(`config agent ${String(this.node)} ${cmd}: ${r.error?.message}`);
    return r.result as T;
  }

  /** totem.config_version as this node's corosync has it now. */
  async cmapVersion(): Promise<string> {
    // The agent's JSON turns bigints (the uint64 config_version) into decimal strings.
    const v = await this.request<string | number>('cmap', { key: 'totem.config_version' });
    return String(v);
  }

  sendRaw(data: Buffer): Promise<void> {
    return this.request('sendRaw', { base64: data.toString('base64') });
  }

  kill(): Promise<number | null> {
    this.#child.kill('SIGKILL');
    return this.#exit;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    await Promise.race([this.request('exit').catch(() => undefined), new Promise((r) => setTimeout(r, 2000))]);
    this.#child.kill('SIGKILL');
    await this.#exit;
  }
}
