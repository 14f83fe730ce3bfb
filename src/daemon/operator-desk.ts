// The daemon's side of operating the cluster (issue 18). The engine decides everything
// (src/engine/operations.ts); this desk only carries it out and reports:
// - an operator's command from the control socket becomes a `command` event, and its answer
//   (the engine's commandResult, or the outcome of the editConfig it decided) goes back to the
//   client; a command that moves the master role is answered once the new master has taken
//   over and every member has the new file (or after the client's timeout);
// - the hand-over's CPG messages (src/cluster/handover-messages.ts) are sent for the engine's
//   announceRelease / announceTakeover and fed back as `released` / `takenOver` events, with the
//   timings that measure the gap with no cluster-IP holder;
// - NotifyCommand runs on every role change (argv, no shell, the COROLISTENER_* environment
//   plus COROLISTENER_OLD_ROLE and COROLISTENER_NEW_ROLE), one at a time, in order.
import type { Logger } from 'pino';
import { contextEnv, type CommandContext } from '../actions/command-context';
import { formatArgv, type CommandRunner } from '../actions/command-runner';
import { encodeMessage } from '../cluster/envelope';
import type { ClusterKey } from '../cluster/cluster-key';
import { HANDOVER, type HandoverBody } from '../cluster/handover-messages';
import { OPERATOR, signOperator, verifyOperator, type OperatorBody } from '../cluster/operator-messages';
import { describeCommand, editorOf } from '../engine/operations';
import { OperatorCommandError, parseOperatorCommand } from '../engine/operator-command';
import type { Effect, EngineEvent, EngineState, OperatorCommand, Role } from '../engine/types';
import { errorText } from './corosync-session';
import type { Clock } from './ports';

/** What the CLI sends (control socket `operate`). */
export interface OperateRequest {
  args: string[];
  /** How long a command that moves the master role waits for the new master (default 60 s). */
  timeoutMs?: number;
}

export interface HandoverReport {
  from: number;
  to: number;
  /** ms the old master was without the address before its release went out. */
  ipFreeMs: number | null;
  /** ms from the release's arrival on the new master to the address held there. */
  heldAfterMs: number | null;
  /** Their sum: the time with no holder of the cluster IP (CPG's one-way latency left out). */
  gapMs: number | null;
  at: string;
}

export interface OperateResult {
  ok: boolean;
  message: string;
  configVersion?: number;
  handover?: HandoverReport;
}

export interface OperatorDeskDeps {
  logger: Logger;
  clock: Clock;
  feed(event: EngineEvent): void;
  state(): EngineState | undefined;
  /**
   * Sends on the CPG group without waiting for the message to come back: the hand-over's and the
   * forwarded commands' messages need no agreed-order confirmation, and must not hold up the plan
   * (a takeover's raise follows its announcement) while corosync is slow or stopped.
   */
  send(data: Buffer): Promise<void>;
  runner: CommandRunner;
  notifyCommand(): readonly string[] | undefined;
  context(role: CommandContext['role']): CommandContext;
  /** The cluster key (forwarding a command to the master is signed); undefined: not forwarded. */
  key(): ClusterKey | undefined;
}

interface Waiter {
  command: OperatorCommand;
  timeoutMs: number;
  resolve(result: OperateResult): void;
  /** Set once the edit is written and the role moves: whom we wait for. */
  moving?: { to: number; version: number; summary: string; taken: HandoverReport | null; timer: unknown };
}

export const DEFAULT_OPERATE_TIMEOUT_MS = 60_000;
export const MAX_OPERATE_TIMEOUT_MS = 600_000;
const NOTIFY_TIMEOUT_MS = 30_000;

export class OperatorDesk {
  private seq = 0;
  private readonly waiters = new Map<string, Waiter>();
  private ipRemovedAt: number | null = null;
  private ipHeldAt: number | null = null;
  private release: { from: number; at: number; ipFreeMs: number | null } | null = null;
  private notifyChain: Promise<void> = Promise.resolve();
  private readonly forwarded = new Map<string, { resolve(r: OperateResult): void; timer: unknown }>();
  /** The last hand-over this node saw complete (status). */
  lastHandover: HandoverReport | null = null;

  constructor(private readonly d: OperatorDeskDeps) {}

  /**
   * A control-socket request: parse, hand it to the engine (or, when another node writes the
   * configuration, forward it there over CPG, signed), answer when decided (and done).
   */
  operate(request: unknown, forward = true): Promise<OperateResult> {
    const r = (request ?? {}) as Partial<OperateRequest>;
    if (!Array.isArray(r.args) || !r.args.every((a) => typeof a === 'string')) return Promise.reject(new Error('operate: args must be an array of strings'));
    let command: OperatorCommand;
    try {
      command = parseOperatorCommand(r.args);
    } catch (err) {
      if (err instanceof OperatorCommandError) return Promise.resolve({ ok: false, message: err.message });
      throw err;
    }
    const timeoutMs = typeof r.timeoutMs === 'number' && Number.isFinite(r.timeoutMs) ? Math.min(Math.max(r.timeoutMs, 1_000), MAX_OPERATE_TIMEOUT_MS) : DEFAULT_OPERATE_TIMEOUT_MS;
    const state = this.d.state();
    if (state === undefined) return Promise.resolve({ ok: false, message: 'the daemon has not connected to corosync yet' });
    const editor = editorOf(state);
    const key = this.d.key();
    if (forward && editor !== null && editor !== state.localNodeId && key !== undefined) return this.forward(editor, r.args, timeoutMs, key);
    const id = `op-${++this.seq}`;
    const answer = new Promise<OperateResult>((resolve) => this.waiters.set(id, { command, timeoutMs, resolve }));
    this.d.logger.info({ event: 'operator', id, command: describeCommand(command) }, `operator: ${describeCommand(command)}`);
    this.d.feed({ type: 'command', now: this.d.clock.now(), id, command });
    return answer;
  }

  /** The engine's answer to a command that needs no edit. */
  commandResult(e: Extract<Effect, { type: 'commandResult' }>): void {
    this.finish(e.commandId, { ok: e.ok, message: e.message });
  }

  /** The engine's edit was written (error: it was not). A role that moves is waited for. */
  editDone(e: Extract<Effect, { type: 'editConfig' }>, error?: unknown): void {
    const w = this.waiters.get(e.commandId);
    // Answered already, or waiting for the move: a step repeated after its write changes nothing.
    if (w === undefined || w.moving !== undefined) return;
    if (error !== undefined) return this.finish(e.commandId, { ok: false, message: `${describeCommand(w.command)}: corosync.conf not written: ${errorText(error)}` });
    if (e.masterAfter === null || e.masterAfter === e.masterBefore) return this.finish(e.commandId, { ok: true, message: e.summary, configVersion: e.configVersion });
    const timer = this.d.clock.setTimeout(() => {
      const m = this.waiters.get(e.commandId)?.moving;
      this.finish(e.commandId, {
        ok: false,
        message: `node ${e.masterAfter} did not become master within ${w.timeoutMs / 1000} s (${m?.taken === null ? 'no takeover announced' : 'not every member has config_version ' + e.configVersion})`,
        configVersion: e.configVersion,
      });
    }, w.timeoutMs);
    w.moving = { to: e.masterAfter, version: e.configVersion, summary: e.summary, taken: null, timer };
    this.check();
  }

  /** After every decision: are the moves waited for complete? */
  check(): void {
    const s = this.d.state();
    if (s === undefined) return;
    for (const [id, w] of this.waiters) {
      const m = w.moving;
      if (m === undefined) continue;
      const view = s.config;
      const q = s.quorum;
      if (view === null || q === null || !q.quorate || view.configVersion < m.version) continue;
      const agree = q.members.every((mid) => (mid === s.localNodeId ? view.configVersion : s.configVersions[mid]) === view.configVersion);
      const named = m.to === s.localNodeId ? s.role === 'master' && s.clusterIp.held : s.masterId === m.to && m.taken !== null;
      if (!agree || !named) continue;
      this.d.clock.clearTimeout(m.timer);
      const h = m.taken ?? this.lastHandover;
      const gap =
        h?.gapMs == null
          ? 'no-holder gap not measured'
          : `no cluster-IP holder for ${h.gapMs} ms (node ${h.from} released it ${h.ipFreeMs} ms before its release went out; node ${h.to} held it ${h.heldAfterMs} ms after the release arrived)`;
      this.finish(id, {
        ok: true,
        message: `${m.summary}; node ${m.to} is master, all ${q.members.length} members at config_version ${view.configVersion}; ${gap}`,
        configVersion: view.configVersion,
        ...(h === null ? {} : { handover: h }),
      });
    }
  }

  // ---- the hand-over's messages and timings

  stepDone(effect: Effect, ok: boolean): void {
    if (!ok) return;
    if (effect.type === 'removeClusterIp') this.ipRemovedAt = this.d.clock.now();
    if (effect.type === 'addClusterIp') this.ipHeldAt = this.d.clock.now();
  }

  announceRelease(): Promise<void> {
    const now = this.d.clock.now();
    const body: HandoverBody = { phase: 'released', ipFreeMs: this.ipRemovedAt === null ? null : round(now - this.ipRemovedAt), from: null, heldAfterMs: null };
    this.d.logger.info({ event: 'handover-release', ipFreeMs: body.ipFreeMs }, `released the master duties (cluster IP removed ${body.ipFreeMs ?? '?'} ms ago)`);
    return this.d.send(encodeMessage(HANDOVER, body));
  }

  announceTakeover(e: Extract<Effect, { type: 'announceTakeover' }>): Promise<void> {
    let body: HandoverBody = { phase: 'taken', ipFreeMs: null, from: e.from, heldAfterMs: null };
    const rel = this.release;
    if (e.from !== null && rel !== null && rel.from === e.from && this.ipHeldAt !== null && this.ipHeldAt >= rel.at) {
      body = { ...body, ipFreeMs: rel.ipFreeMs, heldAfterMs: round(this.ipHeldAt - rel.at) };
      const report = this.report(e.from, this.localId(), body);
      this.lastHandover = report;
      this.d.logger.info({ event: 'handover', ...report }, `took over from node ${e.from}: no cluster-IP holder for ${report.gapMs ?? '?'} ms`);
    }
    return this.d.send(encodeMessage(HANDOVER, body));
  }

  /** A peer's hand-over message (own ones are not passed here). */
  onMessage(from: number, body: HandoverBody): void {
    const now = this.d.clock.now();
    if (body.phase === 'released') {
      this.release = { from, at: now, ipFreeMs: body.ipFreeMs };
      this.d.feed({ type: 'released', now, from });
      return;
    }
    if (body.from !== null) {
      const report = this.report(body.from, from, body);
      this.lastHandover = report;
      for (const w of this.waiters.values()) if (w.moving?.to === from) w.moving.taken = report;
    } else {
      for (const w of this.waiters.values()) if (w.moving?.to === from && w.moving.taken === null) w.moving.taken = this.report(from, from, body);
    }
    this.d.feed({ type: 'takenOver', now, from });
    this.check();
  }

  // ---- forwarding to the writer

  private forward(to: number, args: string[], timeoutMs: number, key: ClusterKey): Promise<OperateResult> {
    const id = `fwd-${this.localId()}-${++this.seq}-${this.d.clock.now()}`;
    this.d.logger.info({ event: 'operator-forward', id, to, args }, `operator: ${args.join(' ')} forwarded to node ${to}, which writes the configuration`);
    return new Promise((resolve) => {
      const timer = this.d.clock.setTimeout(() => {
        this.forwarded.delete(id);
        resolve({ ok: false, message: `node ${to} (which writes the configuration) did not answer within ${(timeoutMs + 5_000) / 1000} s` });
      }, timeoutMs + 5_000);
      this.forwarded.set(id, { resolve, timer });
      this.d.send(encodeMessage(OPERATOR, signOperator({ phase: 'request', id, to, args, timeoutMs }, key))).catch((err: unknown) => {
        this.d.clock.clearTimeout(timer);
        this.forwarded.delete(id);
        resolve({ ok: false, message: `cannot forward to node ${to}: ${errorText(err)}` });
      });
    });
  }

  /** A peer's operator message (own ones are not passed here). */
  onOperatorMessage(from: number, body: OperatorBody): void {
    const key = this.d.key();
    if (body.to !== this.localId()) return;
    if (key === undefined || !verifyOperator(body, key)) {
      this.d.logger.warn({ event: 'message-rejected', from, type: OPERATOR, code: 'bad-mac' }, 'cluster message rejected');
      return;
    }
    if (body.phase === 'result') {
      const f = this.forwarded.get(body.id);
      if (f === undefined) return;
      this.forwarded.delete(body.id);
      this.d.clock.clearTimeout(f.timer);
      f.resolve({ ok: body.ok, message: body.ok ? `${body.message} (done by node ${from})` : body.message });
      return;
    }
    // A request for us: carried out here, never forwarded again.
    void this.operate({ args: body.args, timeoutMs: body.timeoutMs }, false).then((result) => {
      const reply = signOperator({ phase: 'result', id: body.id, to: from, ok: result.ok, message: result.message.slice(0, 4096) }, key);
      return this.d.send(encodeMessage(OPERATOR, reply)).catch((err: unknown) => this.d.logger.warn({ event: 'operator-forward', error: errorText(err) }, 'cannot answer a forwarded command'));
    });
  }

  // ---- NotifyCommand

  roleChanged(previous: Role, role: Role): void {
    const argv = this.d.notifyCommand();
    if (argv === undefined || argv.length === 0) return;
    const ctxRole = role === 'unknown' ? 'suspended' : role;
    const env = { ...contextEnv(this.d.context(ctxRole)), COROLISTENER_OLD_ROLE: previous, COROLISTENER_NEW_ROLE: role };
    this.notifyChain = this.notifyChain.then(async () => {
      const r = await this.d.runner.run(argv, { env, timeoutMs: NOTIFY_TIMEOUT_MS });
      const entry = { event: 'notify', argv: formatArgv(argv), previous, role, exitCode: r.exitCode, durationMs: Math.round(r.durationMs) };
      if (r.exitCode === 0) this.d.logger.info(entry, `NotifyCommand ran for ${previous} -> ${role}`);
      else this.d.logger.warn({ ...entry, stderr: r.stderr.slice(0, 500), spawnError: r.spawnError, timedOut: r.timedOut }, `NotifyCommand failed for ${previous} -> ${role}`);
    });
  }

  /** Answers every waiting client (the daemon stops). */
  close(): void {
    for (const id of [...this.waiters.keys()]) this.finish(id, { ok: false, message: 'the daemon stopped before the command completed' });
    for (const [id, f] of this.forwarded) {
      this.d.clock.clearTimeout(f.timer);
      this.forwarded.delete(id);
      f.resolve({ ok: false, message: 'the daemon stopped before the forwarded command was answered' });
    }
  }

  private finish(id: string, result: OperateResult): void {
    const w = this.waiters.get(id);
    if (w === undefined) return;
    this.waiters.delete(id);
    if (w.moving !== undefined) this.d.clock.clearTimeout(w.moving.timer);
    this.d.logger.info({ event: 'operator-result', id, ok: result.ok }, `operator: ${result.message}`);
    w.resolve(result);
  }

  private report(from: number, to: number, body: HandoverBody): HandoverReport {
    const gapMs = body.ipFreeMs === null || body.heldAfterMs === null ? null : round(body.ipFreeMs + body.heldAfterMs);
    return { from, to, ipFreeMs: body.ipFreeMs, heldAfterMs: body.heldAfterMs, gapMs, at: new Date(this.d.clock.now()).toISOString() };
  }

  private localId(): number {
    return this.d.state()?.localNodeId ?? 0;
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
