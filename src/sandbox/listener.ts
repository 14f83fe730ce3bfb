// A corolistener daemon (`corolistener run` of the built CLI, dist/cli/main.js) running in a
// sandbox node, as it runs on a real one: in the node's network and mount namespaces, so its
// /tmp (lock files), /run and /etc/corosync are the node's own. Everything it reads and writes
// lives in the node's /run/corolistener (host path: cluster.hostPath(node, ...)), with the fake
// VMmanager of ./fake-vmmgr configured in its vmmgr.conf.
//
//   const l = new SandboxListener(cluster, 'n4');
//   await l.start();                 // writes vmmgr.conf, spawns, waits for the control socket
//   l.calls();                       // what the fake VMmanager recorded on n4
//   await l.kill(); await l.start(); // SIGKILL (a crash) and restart
//   await l.stop();                  // SIGTERM (clean shutdown)
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { queryDaemon } from '../daemon/control-socket';
import { parseStatusReport, type StatusReport } from '../daemon/report';
import type { CommandResult } from './command';
import type { NodeRef, SandboxCluster, SandboxNode } from './cluster';
import { readCalls, renderFakeVmmgrConf, type FakeVmmgrOptions, type VmmgrCall } from './fake-vmmgr';
import { serviceEnvironment } from './service-environment';
import { signal, waitExited } from './procfs';
import { isAlive } from '../util/process-identity';
import { fileTail } from './file-tail';

/** Where a sandbox listener's files are, as the node sees them. */
export const LISTENER_FILES = {
  dir: '/run/corolistener',
  corosyncConf: '/etc/corosync/corosync.conf',
  /** The cluster key (config distribution and config sync): the same on every node of the cluster. */
  keyFile: '/etc/corosync/authkey',
  vmmgrConf: '/run/corolistener/vmmgr.conf',
  log: '/run/corolistener/corolistener.log',
  stateDir: '/run/corolistener/state',
  socket: '/run/corolistener/corolistener.sock',
  /** The daemon's stdout and stderr. */
  output: '/run/corolistener/output.log',
  /** The fake VMmanager's record of the commands run. */
  calls: '/run/corolistener/vmmgr-calls.jsonl',
  lockDir: '/tmp',
} as const;
export type ListenerFile = keyof typeof LISTENER_FILES;

/** The built CLI, whether this module runs from src/ (tests) or from dist/. */
export function cliMainScript(): string {
  return path.resolve(__dirname, '..', '..', 'dist', 'cli', 'main.js');
}

/** `corolistener run` with the sandbox paths (argv after the node binary). */
export function listenerRunArgs(main = cliMainScript()): string[] {
  const f = LISTENER_FILES;
  return [main, 'run', '--corosync-conf', f.corosyncConf, '--key', f.keyFile, '--vmmgr-conf', f.vmmgrConf, '--log', f.log, '--lock-dir', f.lockDir, '--state-dir', f.stateDir, '--socket', f.socket];
}

export interface ListenerOptions {
  /** Fake VMmanager settings (cloudIp, cloudMask, cloudIpDev). */
  vmmgr?: Omit<FakeVmmgrOptions, 'callsFile'>;
  /** Extra environment for the daemon (e.g. a log level). */
  env?: NodeJS.ProcessEnv;
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The environment without COROLISTENER_* (our flags must be what the daemon uses). */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('COROLISTENER_')));
  return { ...env, ...extra };
}

export class SandboxListener {
  readonly node: SandboxNode;
  private child: ChildProcess | null = null;
  /** How the last started process ended (null while running or never started). */
  private ended: string | null = null;

  constructor(
    readonly cluster: SandboxCluster,
    ref: NodeRef,
    private readonly options: ListenerOptions = {},
  ) {
    this.node = cluster.node(ref);
  }

  /** Host path of one of the listener's files. */
  hostPath(file: ListenerFile): string {
    return this.cluster.hostPath(this.node.name, LISTENER_FILES[file]);
  }

  /** How the last started process ended ('exit code 0', 'signal SIGKILL', ...); null while it runs or before a start. */
  get exitStatus(): string | null {
    return this.ended;
  }

  /** Pid of the running daemon, or null. */
  get pid(): number | null {
    const pid = this.child?.pid;
    return pid !== undefined && this.ended === null && isAlive(pid) ? pid : null;
  }

  /** Write the node's vmmgr.conf (the fake VMmanager) unless it exists. */
  prepare(): void {
    fs.mkdirSync(this.hostPath('dir'), { recursive: true, mode: 0o700 });
    fs.mkdirSync(this.hostPath('stateDir'), { recursive: true, mode: 0o700 });
    const conf = this.hostPath('vmmgrConf');
    if (!fs.existsSync(conf)) {
      fs.writeFileSync(conf, renderFakeVmmgrConf({ ...this.options.vmmgr, callsFile: LISTENER_FILES.calls }));
    }
    // One random cluster key per sandbox cluster, copied into each node's /etc/corosync.
    const shared = path.join(this.cluster.dir, 'authkey');
    try {
      fs.writeFileSync(shared, randomBytes(128), { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const key = this.hostPath('keyFile');
    if (!fs.existsSync(key)) fs.copyFileSync(shared, key);
  }

  /**
   * Start the daemon and wait until its control socket answers; resolves to its pid. Rejects,
   * with the end of its output and log, if it exits first or does not answer in time.
   */
  async start(opts: { timeoutMs?: number } = {}): Promise<number> {
    if (this.pid !== null) throw new Error(`node ${this.node.name}: the listener is already running (pid ${this.pid})`);
    this.prepare();
    const out = fs.openSync(this.hostPath('output'), 'a');
    let child: ChildProcess;
    try {
      // Detached: a Ctrl-C at the terminal reaches the test/demo, which tears down in order,
      // not the daemons directly.
      child = this.cluster.spawn(this.node.name, [process.execPath, ...listenerRunArgs()], {
        stdio: ['ignore', out, out],
        detached: true,
        // As systemd starts it (the unit's Environment=, e.g. its memory settings), then ours.
        env: cleanEnv(serviceEnvironment(this.options.env)),
      });
    } finally {
      fs.closeSync(out);
    }
    this.child = child;
    this.ended = null;
    child.on('exit', (code, sig) => {
      if (this.child === child) this.ended = sig ? `signal ${sig}` : `exit code ${code}`;
    });
    child.on('error', (e) => {
      if (this.child === child) this.ended = String(e);
    });
    child.unref();
    const timeoutMs = opts.timeoutMs ?? 20_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      // Set meanwhile by the exit/error handlers (TypeScript keeps the `= null` narrowing across await).
      const ended = this.ended as string | null;
      if (ended !== null || Date.now() > deadline) {
        const how = ended !== null ? `ended (${ended})` : `did not answer on its control socket within ${timeoutMs} ms`;
        if (ended === null) await this.kill();
        throw new Error(`node ${this.node.name}: the listener ${how}\n${this.diagnostics()}`);
      }
      if ((await this.status().catch(() => undefined)) !== undefined) return child.pid!;
      await delay(100);
    }
  }

  /** The end of the daemon's output and log, for error messages. */
  diagnostics(lines = 15): string {
    return `--- ${this.hostPath('output')}\n${fileTail(this.hostPath('output'), lines)}\n--- ${this.hostPath('log')}\n${fileTail(this.hostPath('log'), lines)}`;
  }

  /** SIGTERM (clean shutdown, effects left as they are) and wait; SIGKILL and reject after timeoutMs. */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    const pid = this.pid;
    if (pid === null) return;
    signal(pid, 'SIGTERM');
    const timeoutMs = opts.timeoutMs ?? 10_000;
    if (await waitExited(pid, timeoutMs)) return;
    await this.kill();
    throw new Error(`node ${this.node.name}: the listener ${pid} ignored SIGTERM for ${timeoutMs} ms; killed`);
  }

  /** SIGKILL (a crash) and wait until it is gone. */
  async kill(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined || !isAlive(pid)) return;
    signal(pid, 'SIGKILL');
    if (!(await waitExited(pid, 10_000))) throw new Error(`node ${this.node.name}: the listener ${pid} survived SIGKILL`);
  }

  /** The daemon's `status` over its control socket; undefined when no daemon answers. */
  async status(timeoutMs = 2_000): Promise<StatusReport | undefined> {
    const answer = await queryDaemon(this.hostPath('socket'), 'status', timeoutMs);
    return answer === undefined ? undefined : parseStatusReport(answer);
  }

  /**
   * `corolistener ARGS...` (the built CLI) run inside the node, e.g. ['-l', '--json']; the
   * socket is the listener's unless `socket` names another (e.g. one no daemon answers on).
   */
  cli(args: readonly string[], opts: { socket?: string } = {}): Promise<CommandResult> {
    return this.cluster.exec(this.node.name, [process.execPath, cliMainScript(), ...args, '--socket', opts.socket ?? LISTENER_FILES.socket], {
      timeoutMs: 20_000,
      env: cleanEnv(),
    });
  }

  /** Calls the fake VMmanager recorded on this node, oldest first. */
  calls(): VmmgrCall[] {
    return readCalls(this.hostPath('calls'));
  }

  /** The daemon's log (pino JSON lines), parsed; lines that are not JSON are skipped. */
  logLines(): Array<Record<string, unknown>> {
    let text: string;
    try {
      text = fs.readFileSync(this.hostPath('log'), 'utf8');
    } catch {
      return [];
    }
    const out: Array<Record<string, unknown>> = [];
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a line being written right now, or not ours
      }
    }
    return out;
  }
}

/** A listener on every node of the cluster (or on `refs`), started in parallel. */
export async function startListeners(cluster: SandboxCluster, refs: readonly NodeRef[] = cluster.nodes.map((n) => n.name), options: ListenerOptions = {}): Promise<SandboxListener[]> {
  const listeners = refs.map((r) => new SandboxListener(cluster, r, options));
  const started = await Promise.allSettled(listeners.map((l) => l.start()));
  const failed = started.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed.length > 0) {
    await Promise.all(listeners.map((l) => l.kill().catch(() => undefined)));
    throw failed[0]!.reason;
  }
  return listeners;
}
