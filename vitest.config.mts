import { defineConfig } from 'vitest/config';

// Unit and scenario tests are fast and hermetic. Integration tests start real corosync
// clusters in network namespaces: they need root and corosync (see test/integration/support.ts),
// take seconds each, and are run with limited parallelism on a 2-core machine.
// The fault matrix (test/integration/faults.test.ts) is included in its reduced form;
// `npm run faults` runs its full form.

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
