import { EventEmitter } from 'node:events';
// Fakes for the daemon's unit tests: a scriptable corosync (sessions, quorum, CPG delivery,
// disconnects, refusing connections), recording actions, a manual clock, a captured logger.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach } from 'vitest';
import type { CommandContext } from '../../../src/actions/command-context';
import type { ResumeResult, SuspendResult } from '../../../src/actions/vm-control';
import type { Corolistener } from '../../../src/daemon/corolistener';
import type { Clock, DaemonActions } from '../../../src/daemon/ports';
import type { CorosyncHandlers, CorosyncPort, CorosyncSession } from '../../../src/daemon/corosync-port';

export class FakeSession implements CorosyncSession {
  closed = false;
  readonly sent: Buffer[] = [];
  /** Whether our own CPG messages come back (set false to model a lost delivery). */
  deliverOwn = true;

  constructor(
    private readonly port: FakeCorosync,
    readonly handlers: CorosyncHandlers,
    readonly localNodeId: number,
  ) {}

  configVersions(members: readonly number[]): Record<number, number> {
    const out: Record<number, number> = {};
    for (const id of members) if (this.port.versions[id] !== undefined) out[id] = this.port.versions[id];
    return out;
  }

  async send(data: Buffer): Promise<void> {
    if (this.closed) throw new Error('CS_ERR_BAD_HANDLE');
    this.sent.push(data);
    if (this.deliverOwn) setImmediate(() => !this.closed && this.handlers.onMessage({ nodeId: this.localNodeId, own: true, data }));
  }

  reloads = 0;
  reloadConfig(): void {
    this.reloads++;
  }

  close(): void {
    this.closed = true;
  }

  quorum(quorate: boolean, members: number[], seq: number): void {
    this.handlers.onQuorum({ quorate, ringId: { nodeId: Math.min(...members), seq }, members });
  }

  message(nodeId: number, data: Buffer): void {
    this.handlers.onMessage({ nodeId, own: false, data });
  }

  disconnect(): void {
    this.handlers.onDisconnect(new Error('CS_ERR_LIBRARY'));
  }
}

export class FakeCorosync implements CorosyncPort {
  up = true;
  attempts = 0;
  readonly sessions: FakeSession[] = [];
  versions: Record<number, number> = {};
  /** Called with each new session before connect() returns (e.g. to deliver the current quorum). */
  onConnect: ((s: FakeSession) => void) | undefined;

  constructor(readonly localNodeId: number) {}

  connect(handlers: CorosyncHandlers): CorosyncSession {
    this.attempts++;
    if (!this.up) throw new Error('CS_ERR_LIBRARY: corosync is not running');
    const s = new FakeSession(this, handlers, this.localNodeId);
    this.sessions.push(s);
    this.onConnect?.(s);
    return s;
  }

  get session(): FakeSession {
    const s = this.sessions.at(-1);
    if (!s) throw new Error('no session');
    return s;
  }
}

export interface ActionCall {
  name: string;
  ctx?: CommandContext;
  vms?: readonly string[];
}

/** Records every action; `failures[name]` = how many next calls of it throw. */
export class RecordingActions implements DaemonActions {
  readonly calls: ActionCall[] = [];
  readonly failures: Record<string, number> = {};
  running: string[] = ['vm1', 'vm2'];

  names(): string[] {
    return this.calls.map((c) => c.name);
  }

  private async record(name: string, extra: Omit<ActionCall, 'name'> = {}): Promise<void> {
    this.calls.push({ name, ...extra });
    if ((this.failures[name] ?? 0) > 0) {
      this.failures[name]--;
      throw new Error(`${name} failed (test)`);
    }
  }

  /** For each prepareClusterIp call: how many actions had been called before it. */
  readonly prepared: number[] = [];
  prepareClusterIp = () => {
    this.prepared.push(this.calls.length);
  };
  addClusterIp = () => this.record('addClusterIp');
  removeClusterIp = () => this.record('removeClusterIp');
  createServiceLock = () => this.record('createServiceLock');
  removeServiceLock = () => this.record('removeServiceLock');
  removeStaleRelocatedLock = () => this.record('removeStaleRelocatedLock');
  startService = (ctx: CommandContext) => this.record('startService', { ctx });
  stopService = (ctx: CommandContext) => this.record('stopService', { ctx });
  nodeFailed = (ctx: CommandContext) => this.record('nodeFailed', { ctx });
  async suspendVms(ctx: CommandContext): Promise<SuspendResult> {
    await this.record('suspendVms', { ctx });
    const suspended = this.running;
    this.running = [];
    return { via: 'virsh', suspended };
  }
  async resumeVms(vms: readonly string[], ctx: CommandContext): Promise<ResumeResult> {
    await this.record('resumeVms', { ctx, vms });
    return { via: 'virsh', resumed: [...vms], alreadyRunning: [], missing: [] };
  }
}

/** Timers run only when the test advances time. */
export class ManualClock implements Clock {
  time = 1_000_000;
  private seq = 0;
  readonly timers = new Map<number, { at: number; ms: number; fn: () => void }>();

  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.time + ms, ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  /** Delays of the pending timers, soonest first. */
  pending(): number[] {
    return [...this.timers.values()].sort((a, b) => a.at - b.at).map((t) => t.ms);
  }
  advance(ms: number): void {
    const until = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = until;
  }
}

export function captureLogger(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

export interface NodeConf {
  id: number;
  prio?: number;
  replication?: 'on' | 'off';
}

/** The README's example (its `corolistener -l` output): nodeids 2/4/8 with prio 99/100/98 (node 4 is master). */
export const DOC_EXAMPLE_NODES: readonly NodeConf[] = [
  { id: 2, prio: 99 },
  { id: 4, prio: 100 },
  { id: 8, prio: 98 },
];

export function corosyncConfText(nodes: readonly NodeConf[], configVersion = 1): string {
  return [
    'totem {',
    '  version: 2',
    '  cluster_name: VMmanager',
    `  config_version: ${configVersion}`,
    '  transport: knet',
    '}',
    'quorum {',
    '  provider: corosync_votequorum',
    `  expected_votes: ${nodes.length}`,
    '}',
    'ihttpd {',
    '  count: 1',
    '  port0: 1500',
    '}',
    'nodelist {',
    ...nodes.flatMap((n) => [
      '  node {',
      `    ring0_addr: 198.18.0.${n.id}`,
      `    nodeid: ${n.id}`,
      ...(n.prio === undefined ? [] : [`    prio: ${n.prio}`]),
      `    replication: ${n.replication ?? 'on'}`,
      '  }',
    ]),
    '}',
    '',
  ].join('\n');
}

export interface TestDirs {
  root: string;
  corosyncConf: string;
  vmmgrConf: string;
  stateDir: string;
  cleanup(): void;
}

export function testDirs(nodes: readonly NodeConf[], vmmgr = 'CloudIp 198.18.0.100\nCloudMask 24\n'): TestDirs {
  const root = mkdtempSync(join(tmpdir(), 'corolistener-daemon-'));
  const corosyncConf = join(root, 'corosync.conf');
  const vmmgrConf = join(root, 'vmmgr.conf');
  const stateDir = join(root, 'state');
  mkdirSync(stateDir);
  writeFileSync(corosyncConf, corosyncConfText(nodes));
  writeFileSync(vmmgrConf, vmmgr);
  return { root, corosyncConf, vmmgrConf, stateDir, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

/** A LinkMonitor whose carrier the test sets. */
export class FakeLink extends EventEmitter<{ carrier: [boolean]; error: [Error] }> {
  carrier = true;
  started = false;

  constructor(readonly dev: string) {
    super();
  }

  start(): void {
    this.started = true;
  }

  close(): void {
    this.started = false;
  }

  set(carrier: boolean): void {
    if (carrier === this.carrier) return;
    this.carrier = carrier;
    this.emit('carrier', carrier);
  }
}

/** The daemon and directories of the running test (daemonPerTest). */
export interface DaemonUnderTest {
  daemon?: Corolistener;
  dirs?: TestDirs;
}

/**
 * Registers an afterEach that stops the test's daemon and removes its directories (after
 * `beforeStop`, e.g. releasing a gate the daemon waits on); the test sets `daemon` and `dirs`.
 */
export function daemonPerTest(beforeStop?: () => void): DaemonUnderTest {
  const t: DaemonUnderTest = {};
  afterEach(async () => {
    beforeStop?.();
    await t.daemon?.stop();
    t.daemon = undefined;
    t.dirs?.cleanup();
    t.dirs = undefined;
  });
  return t;
}
