// The generic effect interpreter: holds the engine's state, feeds it events, and runs the
// effects of each decision on one PlanRunner, with the bookkeeping of steps a newer plan must
// carry over. It holds no policy of its own (xstate's interpreter, docs/design.md §2): which
// steps are carried over, which may run now, which cancel the step in flight and which results
// go back as events are the engine's answers (src/engine/plan.ts, effect-traits.ts). The daemon
// runs it with the node's real actions; the simulator (src/simulator) with fake ones.
import { PlanRunner, type StepOutcome, type StepReport } from '../actions/plan-runner';
import type { RetryOptions } from '../actions/retry';
import { cancelsInFlight, refusal, resultEvent, traitsOf } from '../engine/effect-traits';
import { transition } from '../engine/engine';
import { nextPlan } from '../engine/plan';
import type { Decision, Effect, EffectType, EngineEvent, EngineState } from '../engine/types';
import type { Clock } from './ports';

export type EffectOf<K extends EffectType> = Extract<Effect, { type: K }>;

/** Effects the interpreter runs itself (timers: it has the clock). */
type OwnEffect = 'startTimer';

/**
 * What each effect does here: the node's real actions (src/daemon/node-effects.ts) or the
 * simulator's model of a node. A handler's value is the effect's result (suspendVms: the VMs
 * suspended); a thrown error fails the attempt (`retryable: false` on it: no retry).
 */
export type EffectHandlers = {
  [K in Exclude<EffectType, OwnEffect>]: (effect: EffectOf<K>, signal: AbortSignal) => Promise<unknown>;
};

/** One effect as submitted to the runner; `status` tells which steps a newer plan must carry over. */
interface Step {
  effect: Effect;
  status: 'pending' | 'running' | 'retrying' | 'done';
  /** How it ended (set once done). */
  outcome?: StepOutcome;
  /**
   * Carried over while still in flight: this copy runs only if that attempt did not succeed
   * (a newer plan cuts a step's retries short, so its failure would otherwise be lost).
   */
  repeatOf?: Step;
  /** Not run because `repeatOf` succeeded: not reported. */
  redundant?: boolean;
}

export interface InterpreterOptions {
  handlers: EffectHandlers;
  clock: Clock;
  /** Retries of a failed step (default: PlanRunner's, 4 attempts from 250 ms). */
  retry?: RetryOptions;
  /**
   * The wait between attempts (default: a real timer, whatever the clock). The simulator passes
   * `clockSleep(itsClock)`: its time moves only when a scenario says so.
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Where the events that running effects produce (results, fired timers) go. Default: fed to
   * this interpreter right after the step (outside the runner's callback). The simulator queues
   * them with the rest of its deliveries.
   */
  deliver?(event: EngineEvent): void;
  /** Every decision, after the state has moved on (logging, emitting). */
  onDecision?(decision: Decision, event: EngineEvent, before: EngineState): void;
  /** A step ended (not reported: superseded steps, carried over to the newer plan). */
  onStep?(report: { effect: Effect; outcome: StepOutcome; durationMs: number; attempts: number; error?: unknown }): void;
  /** A failed attempt that will be retried after `delayMs`. */
  onRetry?(info: { effect: Effect; attempt: number; delayMs: number; error: unknown }): void;
  /** An at-once effect failed (it is not retried: the engine asks again when it must). */
  onAtOnceError?(effect: Effect, error: unknown): void;
  /** A plan that takes the cluster IP was just submitted (the daemon starts its read-only checks). */
  onClusterIpPlanned?(): void;
}

/** The capped backoff of a step the engine says to retry for as long as its plan stands. */
const RETRY_WHILE_PLANNED: RetryOptions = { attempts: Number.POSITIVE_INFINITY, maxDelayMs: 5_000 };

export class Interpreter {
  private engineState: EngineState | undefined;
  private readonly runner: PlanRunner<Step>;
  private runningStep: Step | undefined;
  private lastPlan: Step[] = [];
  private readonly timers = new Map<string, unknown>();
  private closed = false;

  constructor(private readonly options: InterpreterOptions) {
    this.runner = new PlanRunner<Step>({
      execute: (step, signal) => this.execute(step, signal),
      describe: (step) => step.effect.type,
      onStep: (r) => this.onStep(r),
      onRetry: (info) => {
        const step = this.runningStep;
        if (step === undefined) return;
        // In its backoff wait the step counts as not started: a newer plan carries it over.
        step.status = 'retrying';
        options.onRetry?.({ effect: step.effect, attempt: info.attempt, delayMs: info.delayMs, error: info.error });
      },
      retry: options.retry,
      retryFor: (step) => (traitsOf(step.effect).retryWhilePlanned ? RETRY_WHILE_PLANNED : undefined),
      continueAfterFailure: true,
      sleep: options.sleep,
    });
  }

  /** The engine's state (undefined until start). */
  get state(): EngineState | undefined {
    return this.engineState;
  }

  /** Starts deciding from `state` (a fresh daemon's initialState). */
  start(state: EngineState): void {
    this.engineState = state;
  }

  /** True while a plan is running or queued. */
  get busy(): boolean {
    return this.runner.busy;
  }

  /** Decides on `event` and submits the decision's effects; undefined before start or after close. */
  feed(event: EngineEvent): Decision | undefined {
    const before = this.engineState;
    if (before === undefined || this.closed) return undefined;
    const decision = transition(before, event);
    this.engineState = decision.state;
    this.options.onDecision?.(decision, event, before);
    for (const effect of decision.effects) if (traitsOf(effect).atOnce) this.runAtOnce(effect);
    if (decision.effects.some((e) => !traitsOf(e).atOnce)) this.submit(decision);
    return decision;
  }

  /** Resolves once no plan runs and none is queued (decisions fed back by steps included). */
  async settled(): Promise<void> {
    for (;;) {
      await this.runner.idle();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (!this.runner.busy) return;
    }
  }

  /** Cancels the step in flight, runs nothing queued, forgets timers. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers.values()) this.options.clock.clearTimeout(t);
    this.timers.clear();
    await this.runner.close();
  }

  private deliver(event: EngineEvent): void {
    if (this.closed) return;
    if (this.options.deliver) this.options.deliver(event);
    // Outside the step: the decision it triggers must not run inside the runner's callback.
    else queueMicrotask(() => this.feed(event));
  }

  private runAtOnce(effect: Effect): void {
    void this.handle(effect, new AbortController().signal).catch((err: unknown) => this.options.onAtOnceError?.(effect, err));
  }

  /** Submits a decision's effects with what the last plan still owes (the engine orders them). */
  private submit(decision: Decision): void {
    // The step in flight is owed too, in case it fails: superseded, its retries are cut short.
    const owed = this.lastPlan.filter((s) => s.status !== 'done');
    const owedByEffect = new Map(owed.map((s) => [s.effect, s]));
    const ordered = nextPlan(
      owed.map((s) => ({ effect: s.effect, retrying: s.status === 'retrying' })),
      decision,
    );
    const steps: Step[] = ordered.map((effect) => {
      const old = owedByEffect.get(effect);
      // A copy of a step in flight keeps the link to that attempt through every later plan too
      // (a second newer plan before it ends must not run it again if it succeeds).
      const repeatOf = old?.status === 'running' ? old : old?.status === 'pending' ? old.repeatOf : undefined;
      return repeatOf !== undefined ? { effect, status: 'pending', repeatOf } : { effect, status: 'pending' };
    });
    const inFlight = this.runningStep;
    const abortInFlight = inFlight !== undefined && inFlight.status === 'running' && cancelsInFlight(decision.state, inFlight.effect);
    this.lastPlan = steps;
    if (steps.some((s) => s.effect.type === 'addClusterIp')) this.options.onClusterIpPlanned?.();
    this.runner.submit(steps, undefined, { abortInFlight });
  }

  private onStep(r: StepReport<Step>): void {
    r.effect.status = 'done';
    r.effect.outcome = r.outcome;
    if (r.outcome === 'superseded' || r.effect.redundant) return; // carried over (or deliberately dropped) by the newer plan
    this.options.onStep?.({ effect: r.effect.effect, outcome: r.outcome, durationMs: r.durationMs, attempts: r.attempts, error: r.error });
  }

  private async execute(step: Step, signal: AbortSignal): Promise<void> {
    step.status = 'running';
    this.runningStep = step;
    if (step.repeatOf?.outcome === 'ok') {
      step.redundant = true;
      return;
    }
    const e = step.effect;
    const state = this.engineState;
    const refused = state === undefined ? null : refusal(state, e, this.options.clock.now());
    if (refused !== null) throw Object.assign(new Error(refused.reason), { retryable: refused.retryable });
    let result: unknown;
    try {
      result = await this.handle(e, signal);
    } catch (error) {
      this.report(e, { ok: false, error });
      throw error;
    }
    this.report(e, { ok: true, result });
  }

  /** The attempt's result, when the engine needs it, goes back as an event. */
  private report(effect: Effect, attempt: { ok: true; result: unknown } | { ok: false; error: unknown }): void {
    const event = resultEvent(effect, attempt, this.options.clock.now());
    if (event !== null) this.deliver(event);
  }

  private handle(effect: Effect, signal: AbortSignal): Promise<unknown> {
    if (effect.type === 'startTimer') {
      this.startTimer(effect.id, effect.ms);
      return Promise.resolve();
    }
    return dispatch(this.options.handlers, effect, signal);
  }

  private startTimer(id: string, ms: number): void {
    const { clock } = this.options;
    const old = this.timers.get(id);
    if (old !== undefined) clock.clearTimeout(old);
    this.timers.set(
      id,
      clock.setTimeout(() => {
        this.timers.delete(id);
        this.deliver({ type: 'timerFired', now: clock.now(), id });
      }, ms),
    );
  }
}

/** Calls the handler of the effect's own type (one switch, so each handler gets its own effect type). */
function dispatch(h: EffectHandlers, e: Exclude<Effect, { type: OwnEffect }>, signal: AbortSignal): Promise<unknown> {
  switch (e.type) {
    case 'removeRelocatedLock':
      return h.removeRelocatedLock(e, signal);
    case 'addClusterIp':
      return h.addClusterIp(e, signal);
    case 'createServiceLock':
      return h.createServiceLock(e, signal);
    case 'startService':
      return h.startService(e, signal);
    case 'raisePriority':
      return h.raisePriority(e, signal);
    case 'publishConfig':
      return h.publishConfig(e, signal);
    case 'reportNodesFailed':
      return h.reportNodesFailed(e, signal);
    case 'broadcastFailureRecords':
      return h.broadcastFailureRecords(e, signal);
    case 'stopService':
      return h.stopService(e, signal);
    case 'removeServiceLock':
      return h.removeServiceLock(e, signal);
    case 'removeClusterIp':
      return h.removeClusterIp(e, signal);
    case 'removeClusterIpNow':
      return h.removeClusterIpNow(e, signal);
    case 'readConfig':
      return h.readConfig(e, signal);
    case 'suspendVms':
      return h.suspendVms(e, signal);
    case 'resumeVms':
      return h.resumeVms(e, signal);
    case 'reportVmsDiscarded':
      return h.reportVmsDiscarded(e, signal);
    case 'persistState':
      return h.persistState(e, signal);
    case 'announceRelease':
      return h.announceRelease(e, signal);
    case 'announceTakeover':
      return h.announceTakeover(e, signal);
    case 'editConfig':
      return h.editConfig(e, signal);
    case 'commandResult':
      return h.commandResult(e, signal);
  }
}

/** A sleep on `clock` for InterpreterOptions.sleep (rejects when `signal` aborts). */
export function clockSleep(clock: Clock): (ms: number, signal?: AbortSignal) => Promise<void> {
  return (ms, signal) =>
    new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Error('aborted'));
      const onAbort = (): void => {
        clock.clearTimeout(handle);
        reject(new Error('aborted'));
      };
      const handle = clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
}
