// Shared by every integration test (real corosync in network namespaces).
//
// describeIntegration(): runs the suite when the machine can host sandbox clusters. When it
// cannot, the suite FAILS under CI (process.env.CI set: a missing prerequisite must never pass
// as green) and is skipped with a printed reason elsewhere (a developer laptop without root).
//
// useCluster(): a cluster created in beforeAll and destroyed in afterAll, even when tests fail.
//
// notes(): prints the measurements a test rests on, so the CI log shows how close they are to
// their limits (asserted limits stay in the tests; speed targets belong in benchmarks).
import { afterAll, beforeAll, describe, it } from 'vitest';
import { createCluster, type ClusterOptions, type SandboxCluster } from '../../src/sandbox';
import { sandboxPrereqProblems } from '../../src/sandbox/prereqs';

export type Prereqs = { ok: true } | { ok: false; reason: string };

/** Whether this machine can run sandbox clusters, and if not, why. */
export function integrationPrereqs(): Prereqs {
  const problems = sandboxPrereqProblems();
  return problems.length === 0 ? { ok: true } : { ok: false, reason: problems.join('; ') };
}

/** describe() for integration suites: runs, fails loudly (CI), or skips with a reason. */
export function describeIntegration(name: string, fn: () => void): void {
  const p = integrationPrereqs();
  if (p.ok) {
    describe(name, fn);
  } else if (process.env.CI) {
    describe(name, () => {
      it('has its prerequisites (required under CI)', () => {
        throw new Error(`integration prerequisites missing: ${p.reason}`);
      });
    });
  } else {
    console.warn(`[integration] SKIPPED "${name}": ${p.reason}`);
    describe.skip(name, fn);
  }
}

/**
 * Create a cluster for the enclosing describe (beforeAll) and destroy it afterwards (afterAll,
 * which vitest runs even when tests or beforeAll fail). Returns an accessor for the tests.
 */
export function useCluster(options: ClusterOptions = {}): (() => SandboxCluster) & { createMs?: number } {
  let cluster: SandboxCluster | undefined;
  beforeAll(async () => {
    const t0 = Date.now();
    cluster = await createCluster(options);
    get.createMs = Date.now() - t0;
  });
  afterAll(async () => {
    await cluster?.destroy();
  });
  const get: (() => SandboxCluster) & { createMs?: number } = () => {
    if (!cluster) throw new Error('useCluster: the cluster was not created (see the beforeAll error)');
    return cluster;
  };
  return get;
}

/**
 * A printer for one test file's measurements: `notes('binding')('cpg send', 12)` prints
 * `[binding] cpg send: 12 ms`. Pass unit '' for counts or composite values.
 */
export function notes(scope: string): (what: string, value: number | string, unit?: string) => void {
  return (what, value, unit = 'ms') => console.log(`[${scope}] ${what}: ${value}${unit === '' ? '' : ` ${unit}`}`);
}
