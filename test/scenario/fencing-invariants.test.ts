// Randomised schedules with self-fencing (issue 15): every node has a watchdog (10 s, margin 4 s),
// and besides partitions, crashes and restarts a node may freeze (every process stopped) or its
// VmSuspendCommand may hang. After every step the invariants of checkInvariants hold, plus: no VM
// is restored while the node it ran on still runs it (a restore before that node's fence), and
// without freezes, hangs or late suspend results nobody is reset (a clean suspend is safe).
// Fixed seed (ENGINE_FC_SEED), like invariants.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FencingSimulator, checkInvariants, runCommand, type SimNodeSpec } from '../../src/simulator';

const SEED = Number(process.env.ENGINE_FC_SEED ?? 20261205);
const RUNS = Number(process.env.ENGINE_FC_RUNS ?? 1500);
const WATCHDOG = { timeoutMs: 10_000, marginMs: 4000 };

function commandArb(size: number): fc.Arbitrary<string> {
  const node = fc.integer({ min: 1, max: size }).map((n) => `n${n}`);
  const someNodes = fc.uniqueArray(fc.integer({ min: 1, max: size }), { minLength: 1, maxLength: size - 1 }).map((ns) => ns.map((n) => `n${n}`).join(' '));
  return fc.oneof(
    { weight: 3, arbitrary: someNodes.map((ns) => `cut ${ns}`) },
    { weight: 3, arbitrary: fc.constant('heal') },
    { weight: 2, arbitrary: node.map((n) => `crash ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `boot ${n}`) },
    { weight: 1, arbitrary: node.map((n) => `kill-corosync ${n}`) },
    { weight: 1, arbitrary: node.map((n) => `start-corosync ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `restart-listener ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `freeze ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `thaw ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `hang-suspend ${n}`) },
    { weight: 4, arbitrary: fc.integer({ min: 1, max: 20_000 }).map((ms) => `wait ${ms}`) },
  );
}

const scheduleArb = fc
  .record({
    size: fc.integer({ min: 3, max: 5 }),
    prios: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 5, maxLength: 5 }),
    interleaveSeed: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: undefined }),
    lateResults: fc.boolean(),
  })
  .chain((c) => fc.record({ cluster: fc.constant(c), commands: fc.array(commandArb(c.size), { minLength: 1, maxLength: 20, size: 'max' }) }));

describe('randomised schedules with self-fencing', () => {
  it('never restore a VM before its node is fenced, and reset nobody who suspended cleanly', async () => {
    let schedules = 0;
    let fences = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb, async ({ cluster, commands }) => {
        schedules++;
        const nodes: SimNodeSpec[] = Array.from({ length: cluster.size }, (_, i) => ({ nodeId: i + 1, prio: cluster.prios[i], replication: true, vms: [`vm${i + 1}a`, `vm${i + 1}b`] }));
        const sim = new FencingSimulator({ nodes, watchdog: WATCHDOG, interleaveSeed: cluster.interleaveSeed, lateResults: cluster.lateResults });
        await sim.start(nodes.map((n) => n.nodeId));
        const history: string[] = ['start all'];
        for (const command of commands) {
          const [verb, arg] = command.split(' ');
          if (verb === 'boot') {
            const id = Number(arg.slice(1));
            if (sim.node(id).powered) continue;
            await sim.start([id]);
          } else {
            await runCommand(sim, 'random', 0, command);
          }
          history.push(command);
          const problems = checkInvariants(sim);
          const unsafeFaults = cluster.lateResults || history.some((c) => c.startsWith('freeze') || c.startsWith('hang-suspend'));
          if (!unsafeFaults && sim.fenced.length > 0) problems.push(`reset without a freeze, a hang or a late suspend: ${sim.fenced.join('; ')}`);
          if (problems.length > 0) throw new Error(`after ${history.join(' ; ')}:\n${problems.join('\n')}`);
        }
        fences += sim.fenced.length;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`randomised fencing schedules: ${schedules} schedules, ${fences} watchdog resets (seed ${SEED})`);
    expect(schedules).toBeGreaterThanOrEqual(RUNS);
    expect(fences).toBeGreaterThan(0);
  });
});
