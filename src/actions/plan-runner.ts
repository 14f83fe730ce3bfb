// Executes the engine's plans of effects one plan at a time, in order. A newer plan supersedes
// the steps of the current plan that have not started (and a queued plan entirely): the step
// in flight finishes, or is cancelled through its AbortSignal when `abortInFlight` is set.
// Failed steps are retried with backoff; a backoff wait never delays a newer plan. Nothing is
// scheduled while idle, so the process can exit.

import { performance } from 'node:perf_hooks';
import { isRetryableError, retry, RetryAbortedError, type RetryOptions } from './retry';

export type StepOutcome =
  | 'ok'
  | 'failed' // every attempt failed (or the step was not retryable)
  | 'cancelled' // in flight when superseded/closed, and its signal was aborted
  | 'superseded' // never started, or waiting to be retried: a newer plan arrived
  | 'skipped'; // never started: an earlier step of the same plan failed

export interface StepReport<E> {
  readonly planId: number;
  readonly index: number;
  readonly name: string;
  readonly effect: E;
  readonly outcome: StepOutcome;
  readonly attempts: number;
  readonly durationMs: number;
  readonly error?: unknown;
}

export interface PlanReport {
  readonly planId: number;
  readonly label?: string;
  readonly outcome: 'completed' | 'failed' | 'superseded';
  readonly steps: number;
  readonly durationMs: number;
}

export interface PlanRunnerOptions<E> {
  /** Makes one effect real. Must honour `signal` when abortInFlight is used. */
  readonly execute: (effect: E, signal: AbortSignal) => Promise<unknown>;
  /** Step name for reports (default: the effect's `type` field, else String(effect)). */
  readonly describe?: (effect: E) => string;
  readonly onStep?: (report: StepReport<E>) => void;
  readonly onPlan?: (report: PlanReport) => void;
  /** A failed attempt that will be retried after `delayMs`. */
  readonly onRetry?: (info: { planId: number; index: number; name: string; attempt: number; delayMs: number; error: unknown }) => void;
  readonly retry?: RetryOptions;
  /** Waits between attempts (default: a timer; see RetryHooks.sleep). */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Per-effect overrides of `retry` (e.g. a step that must keep trying). */
  readonly retryFor?: (effect: E) => RetryOptions | undefined;
  /** Abort the in-flight step's signal when a newer plan arrives (default false: let it finish). */
  readonly abortInFlight?: boolean;
  /**
   * Go on with the next steps after a failed step (default false: later steps are skipped).
   * Decide per effect: stepping down must go on (a failed service stop must not leave the
   * cluster IP here), while a refused takeover step (duplicate IP) must not start VMmanager.
   */
  readonly continueAfterFailure?: boolean | ((effect: E, error: unknown) => boolean);
}

interface Plan<E> {
  readonly id: number;
  readonly effects: readonly E[];
  readonly label?: string;
}

function defaultDescribe(effect: unknown): string {
  if (typeof effect === 'object' && effect !== null && 'type' in effect) return String((effect as { type: unknown }).type);
  return String(effect);
}

export class PlanRunner<E> {
  private nextId = 1;
  private pending: Plan<E> | undefined;
  private current: { plan: Plan<E>; supersede: AbortController; step: AbortController } | undefined;
  private running = false;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly options: PlanRunnerOptions<E>) {}

  /**
   * Queues a plan, superseding whatever has not started yet. Returns the plan's id.
   * `abortInFlight` overrides the runner's option for this plan: whether the step in flight is
   * cancelled too (a plan that changes the node's role must not wait behind a hung command).
   */
  submit(effects: readonly E[], label?: string, options: { abortInFlight?: boolean } = {}): number {
    if (this.closed) throw new Error('PlanRunner is closed');
    const plan: Plan<E> = { id: this.nextId++, effects: [...effects], label };
    if (this.pending) this.reportNeverStarted(this.pending, 0, performance.now());
    this.pending = plan;
    this.supersedeCurrent(options.abortInFlight ?? this.options.abortInFlight ?? false);
    if (!this.running) {
      this.running = true;
      void this.drain();
    }
    return plan.id;
  }

  /** True while a plan is running or queued. */
  get busy(): boolean {
    return this.running;
  }

  /** Resolves once no plan is running or queued. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new plans, supersedes the queued one, cancels the step in flight, waits for it. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pending) {
      this.reportNeverStarted(this.pending, 0, performance.now());
      this.pending = undefined;
    }
    this.supersedeCurrent(true);
    await this.idle();
  }

  private supersedeCurrent(abortStep: boolean): void {
    if (!this.current) return;
    this.current.supersede.abort();
    if (abortStep) this.current.step.abort();
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const plan = this.pending;
      this.pending = undefined;
      await this.runPlan(plan);
    }
    // Cleared in the same synchronous turn as the last check, so a submit can never be lost.
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async runPlan(plan: Plan<E>): Promise<void> {
    const supersede = new AbortController();
    const step = new AbortController();
    this.current = { plan, supersede, step };
    const planStart = performance.now();
    let failed = false;
    let outcome: PlanReport['outcome'] = 'completed';
    try {
      for (let index = 0; index < plan.effects.length; index++) {
        if (supersede.signal.aborted) {
          this.reportNeverStarted(plan, index, planStart);
          return;
        }
        const effect = plan.effects[index];
        if (failed) {
          this.report({ planId: plan.id, index, name: this.describe(effect), effect, outcome: 'skipped', attempts: 0, durationMs: 0 });
          continue;
        }
        const result = await this.runStep(plan, index, effect, supersede.signal, step.signal);
        if (!result.ok) {
          outcome = 'failed';
          if (step.signal.aborted) {
            // Cancelled: the newer plan takes over from here.
            this.reportNeverStarted(plan, index + 1, planStart);
            return;
          }
          const cont = this.options.continueAfterFailure ?? false;
          failed = !(typeof cont === 'function' ? cont(effect, result.error) : cont);
        }
      }
      this.emitPlan({ planId: plan.id, label: plan.label, outcome, steps: plan.effects.length, durationMs: performance.now() - planStart });
    } finally {
      this.current = undefined;
    }
  }

  /** Runs one step with retries and reports it. */
  private async runStep(plan: Plan<E>, index: number, effect: E, supersede: AbortSignal, stepSignal: AbortSignal): Promise<{ ok: true } | { ok: false; error: unknown }> {
    const name = this.describe(effect);
    const start = performance.now();
    let attempts = 0;
    try {
      await retry(
        async () => {
          attempts++;
          await this.options.execute(effect, stepSignal);
        },
        {
          ...this.options.retry,
          ...this.options.retryFor?.(effect),
          // A cancelled step is not retried, whatever the error says.
          isRetryable: (e) => !stepSignal.aborted && (this.options.retry?.isRetryable ?? isRetryableError)(e),
        },
        {
          signal: supersede,
          onRetry: (error, attempt, delayMs) => this.options.onRetry?.({ planId: plan.id, index, name, attempt, delayMs, error }),
          sleep: this.options.sleep,
        },
      );
      this.report({ planId: plan.id, index, name, effect, outcome: 'ok', attempts, durationMs: performance.now() - start });
      return { ok: true };
    } catch (e) {
      const error = e instanceof RetryAbortedError ? e.cause : e;
      // A newer plan cut the retries short: not a failure of its own (the newer plan decides
      // whether the step is still owed).
      const outcome: StepOutcome = stepSignal.aborted ? 'cancelled' : e instanceof RetryAbortedError ? 'superseded' : 'failed';
      this.report({ planId: plan.id, index, name, effect, outcome, attempts, durationMs: performance.now() - start, error });
      return { ok: false, error };
    }
  }

  private reportNeverStarted(plan: Plan<E>, from: number, planStart: number): void {
    for (let index = from; index < plan.effects.length; index++) {
      const effect = plan.effects[index];
      this.report({ planId: plan.id, index, name: this.describe(effect), effect, outcome: 'superseded', attempts: 0, durationMs: 0 });
    }
    this.emitPlan({ planId: plan.id, label: plan.label, outcome: 'superseded', steps: plan.effects.length, durationMs: performance.now() - planStart });
  }

  private describe(effect: E): string {
    return (this.options.describe ?? defaultDescribe)(effect);
  }

  private report(r: StepReport<E>): void {
    this.callback(() => this.options.onStep?.(r));
  }

  private emitPlan(r: PlanReport): void {
    this.callback(() => this.options.onPlan?.(r));
  }

  /** A throwing logging callback must not stop the runner; it is surfaced as a process warning. */
  private callback(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      process.emitWarning(`PlanRunner callback threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    }
  }
}
