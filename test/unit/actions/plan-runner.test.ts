import { describe, expect, it, vi } from 'vitest';
import { PlanRunner, type PlanReport, type StepReport } from '../../../src/actions/plan-runner';

interface Effect {
  type: string;
}

function deferred() {
  let resolve!: () => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const fx = (...names: string[]): Effect[] => names.map((type) => ({ type }));
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

function setup(opts: Partial<ConstructorParameters<typeof PlanRunner<Effect>>[0]> = {}, behaviour: (e: Effect, signal: AbortSignal) => Promise<unknown> = async () => {}) {
  const executed: string[] = [];
  const steps: StepReport<Effect>[] = [];
  const plans: PlanReport[] = [];
  const runner = new PlanRunner<Effect>({
    execute: (e, signal) => {
      executed.push(e.type);
      return behaviour(e, signal);
    },
    onStep: (r) => steps.push(r),
    onPlan: (r) => plans.push(r),
    retry: { attempts: 3, initialDelayMs: 1 },
    ...opts,
  });
  const outcomes = () => steps.map((s) => `${s.planId}:${s.name}:${s.outcome}`);
  return { runner, executed, steps, plans, outcomes };
}

describe('PlanRunner', () => {
  it('executes a plan in order and reports each step with its duration', async () => {
    const { runner, executed, steps, plans, outcomes } = setup();
    runner.submit(fx('a', 'b', 'c'), 'become master');
    await runner.idle();
    expect(executed).toEqual(['a', 'b', 'c']);
    expect(outcomes()).toEqual(['1:a:ok', '1:b:ok', '1:c:ok']);
    expect(steps.every((s) => s.attempts === 1 && s.durationMs >= 0)).toBe(true);
    expect(plans).toMatchObject([{ planId: 1, label: 'become master', outcome: 'completed', steps: 3 }]);
    expect(runner.busy).toBe(false);
  });

  it('serialises plans: a newer plan supersedes the steps not yet started, the step in flight finishes', async () => {
    const gate = deferred();
    const { runner, executed, outcomes, plans } = setup({}, async (e) => {
      if (e.type === 'slow') await gate.promise;
    });
    runner.submit(fx('slow', 'x', 'y'));
    await Promise.resolve();
    runner.submit(fx('p2a'));
    runner.submit(fx('p3a', 'p3b')); // supersedes plan 2 before it started
    expect(executed).toEqual(['slow']);
    gate.resolve();
    await runner.idle();
    expect(executed).toEqual(['slow', 'p3a', 'p3b']);
    expect(outcomes()).toEqual(['2:p2a:superseded', '1:slow:ok', '1:x:superseded', '1:y:superseded', '3:p3a:ok', '3:p3b:ok']);
    expect(plans.map((p) => `${p.planId}:${p.outcome}`)).toEqual(['2:superseded', '1:superseded', '3:completed']);
  });

  it('with abortInFlight, cancels the step in flight through its signal', async () => {
    const { runner, executed, outcomes } = setup({ abortInFlight: true }, (e, signal) =>
      e.type === 'hang' ? new Promise((_res, rej) => signal.addEventListener('abort', () => rej(new Error('aborted')))) : Promise.resolve(),
    );
    runner.submit(fx('hang', 'after'));
    await Promise.resolve();
    runner.submit(fx('next'));
    await runner.idle();
    expect(executed).toEqual(['hang', 'next']);
    expect(outcomes()).toEqual(['1:hang:cancelled', '1:after:superseded', '2:next:ok']);
  });

  it('retries a failed step with backoff, then goes on', async () => {
    let n = 0;
    const retries: number[] = [];
    const { runner, outcomes, steps } = setup({ onRetry: (i) => retries.push(i.attempt) }, async (e) => {
      if (e.type === 'flaky' && ++n < 3) throw new Error('transient');
    });
    runner.submit(fx('flaky', 'b'));
    await runner.idle();
    expect(outcomes()).toEqual(['1:flaky:ok', '1:b:ok']);
    expect(steps[0].attempts).toBe(3);
    expect(retries).toEqual([1, 2]);
  });

  it('a step failing every attempt fails; later steps of that plan are skipped unless continueAfterFailure', async () => {
    const { runner, outcomes, steps, plans } = setup({}, async (e) => {
      if (e.type === 'bad') throw new Error('always');
    });
    runner.submit(fx('bad', 'after'));
    await runner.idle();
    expect(outcomes()).toEqual(['1:bad:failed', '1:after:skipped']);
    expect(steps[0].attempts).toBe(3);
    expect((steps[0].error as Error).message).toBe('always');
    expect(plans[0].outcome).toBe('failed');

    const second = setup({ continueAfterFailure: (e) => e.type === 'bad' }, async (e) => {
      if (e.type === 'bad') throw new Error('always');
    });
    second.runner.submit(fx('bad', 'after'));
    await second.runner.idle();
    expect(second.outcomes()).toEqual(['1:bad:failed', '1:after:ok']);
  });

  it('a failing step never blocks a newer plan: the backoff wait is cut short (reported superseded, not failed)', async () => {
    const { runner, outcomes } = setup({ retry: { attempts: 10, initialDelayMs: 60_000 } }, async (e) => {
      if (e.type === 'bad') throw new Error('down');
    });
    const started = Date.now();
    runner.submit(fx('bad', 'rest'), 'old');
    await new Promise((r) => setTimeout(r, 20)); // now waiting 60 s before attempt 2
    runner.submit(fx('new'));
    await runner.idle();
    expect(Date.now() - started).toBeLessThan(30_000); // the backoff would be 60 s
    expect(outcomes()).toEqual(['1:bad:superseded', '1:rest:superseded', '2:new:ok']);
  });

  it('leaves no timers behind when idle', async () => {
    const before = timers();
    const { runner } = setup({ retry: { attempts: 2, initialDelayMs: 5 } }, async (e) => {
      if (e.type === 'bad') throw new Error('x');
    });
    runner.submit(fx('bad', 'ok'));
    await runner.idle();
    // Process-wide count: a timer of the test harness may come or go meanwhile, so the runner's
    // retry timer being gone means "not more than before", waited for briefly (busy machines).
    await vi.waitFor(() => expect(timers()).toBeLessThanOrEqual(before), { timeout: 2_000 });
  });

  it('close() cancels the step in flight, drops the queue and refuses new plans', async () => {
    const { runner, outcomes } = setup({}, (e, signal) => (e.type === 'hang' ? new Promise((_r, rej) => signal.addEventListener('abort', () => rej(new Error('stop')))) : Promise.resolve()));
    runner.submit(fx('hang', 'later'));
    await Promise.resolve();
    await runner.close();
    expect(outcomes()).toEqual(['1:hang:cancelled', '1:later:superseded']);
    expect(() => runner.submit(fx('x'))).toThrow(/closed/);
  });

  it('a throwing report callback does not stop the runner', async () => {
    const executed: string[] = [];
    const runner = new PlanRunner<Effect>({
      execute: async (e) => void executed.push(e.type),
      onStep: () => {
        throw new Error('logger broke');
      },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    runner.submit(fx('a', 'b'));
    await runner.idle();
    await new Promise((r) => setImmediate(r));
    process.off('warning', onWarning);
    expect(executed).toEqual(['a', 'b']);
    expect(warnings.some((w) => w.includes('logger broke'))).toBe(true);
  });
});
