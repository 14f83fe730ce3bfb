import { defineConfig } from 'vitest/config';

// Unit and scenario tests are fast and hermetic. Integration tests start real corosync
// clusters in network namespaces: they need root and corosync (see test/integration/support.ts),
// take seconds each, and are run with limited parallelism on a 2-core machine.
// The fault matrix (test/integration/faults.test.ts) is included in its reduced form;
// `npm run faults` runs its full form.

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Guards against a hang, not speed claims (those are in bench/): a test waits for its
    // conditions with generous deadlines of its own, and a loaded 2-core machine must never
    // cross these. No test sets a shorter limit of its own (issue 17).
    testTimeout: 300_000,
    hookTimeout: 300_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
