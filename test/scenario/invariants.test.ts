// Randomised schedules: thousands of random sequences of partitions, crashes, corosync and
// daemon restarts, priority edits, masters cut off right after their raise, and waits, on 3
// to 5 nodes. After every step has been processed everywhere, the cluster-wide safety invariants must hold (see checkInvariants);
// after healing everything, the cluster must settle (one master, no VM left suspended).
// The seed is fixed (override with ENGINE_FC_SEED) so CI runs are reproducible.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulator, checkInvariants, runCommand, type SimNodeSpec } from '../../src/simulator';

const SEED = Number(process.env.ENGINE_FC_SEED ?? 20261122);
const RUNS = Number(process.env.ENGINE_FC_RUNS ?? 3000);

interface Cluster {
  nodes: SimNodeSpec[];
  takeoverDelayMs: number;
  interleaveSeed: number | undefined;
  lateResults: boolean;
}

const clusterArb: fc.Arbitrary<Cluster> = fc
  .record({
    size: fc.integer({ min: 3, max: 5 }),
    prios: fc.array(fc.integer({ min: 1, max: 10 }), { minLength: 5, maxLength: 5 }),
    replicationOff: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
    takeoverDelayMs: fc.constantFrom(0, 0, 3000),
    // Half the schedules let the nodes' daemons interleave (each still in its own order).
    interleaveSeed: fc.option(fc.integer({ min: 1, max: 2 ** 31 - 1 }), { nil: undefined }),
    // Half of them get suspend results late (after the next membership change).
    lateResults: fc.boolean(),
  })
  .map(({ size, prios, replicationOff, takeoverDelayMs, interleaveSeed, lateResults }) => ({
    takeoverDelayMs,
    interleaveSeed,
    lateResults,
    nodes: Array.from({ length: size }, (_, i) => ({
      nodeId: i + 1,
      prio: prios[i],
      // At most one node without replication, so that most schedules have candidates.
      replication: !(i === 0 && replicationOff[i]),
      vms: [`vm${i + 1}a`, `vm${i + 1}b`],
    })),
  }));

function commandArb(size: number): fc.Arbitrary<string> {
  const node = fc.integer({ min: 1, max: size }).map((n) => `n${n}`);
  const someNodes = fc.uniqueArray(fc.integer({ min: 1, max: size }), { minLength: 1, maxLength: size - 1 }).map((ns) => ns.map((n) => `n${n}`).join(' '));
  const split = fc.array(fc.integer({ min: 0, max: 2 }), { minLength: size, maxLength: size }).map((groups) =>
    [0, 1, 2]
      .map((g) => groups.flatMap((x, i) => (x === g ? [`n${i + 1}`] : [])).join(' '))
      .filter((g) => g !== '')
      .join(' | '),
  );
  return fc.oneof(
    { weight: 3, arbitrary: someNodes.map((ns) => `cut ${ns}`) },
    { weight: 2, arbitrary: split.map((s) => `split ${s}`) },
    { weight: 3, arbitrary: fc.constant('heal') },
    { weight: 1, arbitrary: node.map((n) => `heal ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `crash ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `boot ${n}`) },
    { weight: 1, arbitrary: node.map((n) => `kill-corosync ${n}`) },
    { weight: 1, arbitrary: node.map((n) => `start-corosync ${n}`) },
    { weight: 2, arbitrary: node.map((n) => `restart-listener ${n}`) },
    { weight: 1, arbitrary: fc.tuple(node, fc.integer({ min: 1, max: 12 })).map(([n, p]) => `set-prio ${n} ${p}`) },
    { weight: 1, arbitrary: fc.tuple(node, fc.boolean()).map(([n, on]) => `set-replication ${n} ${on ? 'on' : 'off'}`) },
    { weight: 1, arbitrary: fc.tuple(node, fc.boolean()).map(([n, up]) => `carrier-${up ? 'up' : 'down'} ${n}`) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 4000 }).map((ms) => `wait ${ms}`) },
    // A master cut off between writing its raised priority and its offer (issue 6's race).
    { weight: 2, arbitrary: fc.constant('cut-on-raise') },
    { weight: 1, arbitrary: node.map((n) => `cut-on-raise ${n}`) },
    // Operating the cluster (issue 18): commands given to any node (the writer carries them
    // out, the others refuse), so ordered hand-overs happen among all of the above.
    { weight: 2, arbitrary: fc.tuple(node, fc.integer({ min: 1, max: size })).map(([n, t]) => `operate ${n} switchover ${t}`) },
    { weight: 1, arbitrary: fc.tuple(node, fc.integer({ min: 1, max: size }), fc.boolean()).map(([n, t, on]) => `operate ${n} standby ${t} ${on ? 'on' : 'off'}`) },
    { weight: 1, arbitrary: fc.tuple(node, fc.integer({ min: 1, max: size }), fc.integer({ min: 0, max: 12 })).map(([n, t, p]) => `operate ${n} prio set ${t} ${p}`) },
  );
}

const scheduleArb = clusterArb.chain((cluster) => fc.record({ cluster: fc.constant(cluster), commands: fc.array(commandArb(cluster.nodes.length), { minLength: 1, maxLength: 25, size: 'max' }) }));

describe('randomised schedules', () => {
  it('keep the safety invariants after every step', async () => {
    let schedules = 0;
    let steps = 0;
    let decisions = 0;
    let overlapsAfterEdits = 0;
    await fc.assert(
      fc.asyncProperty(scheduleArb, async ({ cluster, commands }) => {
        schedules++;
        const sim = new Simulator({ nodes: cluster.nodes, takeoverDelayMs: cluster.takeoverDelayMs, interleaveSeed: cluster.interleaveSeed, lateResults: cluster.lateResults });
        await sim.start(cluster.nodes.map((n) => n.nodeId));
        const history: string[] = ['start all'];
        for (const command of commands) {
          // `boot` of a running node is not an event; skip rather than fail the schedule.
          const [verb, arg] = command.split(' ');
          if (verb === 'boot') {
            const id = Number(arg.slice(1));
            if (sim.node(id).powered) continue;
            await sim.start([id]);
          } else {
            await runCommand(sim, 'random', 0, command);
          }
          steps++;
          history.push(command);
          const problems = checkInvariants(sim);
          // Between quiescent points a second member may take the address before the first has
          // processed the same event. Only an operator's priority or replication edit may cause
          // that (it hands the role over; the real cluster IP's duplicate-address check makes the
          // new master wait): without one, it is a violation.
          const overlaps = sim.ipOverlaps.splice(0);
          if (overlaps.length > 0) {
            overlapsAfterEdits += overlaps.length;
            if (!history.some((c) => c.startsWith('set-'))) problems.push(...overlaps);
          }
          if (problems.length > 0) throw new Error(`after ${history.join(' ; ')}:\n${problems.join('\n')}`);
        }
        // Liveness: once everything is healed and running again, there is exactly one master
        // (when some node is eligible) and no suspended VM is left undecided.
        const ids = cluster.nodes.map((n) => n.nodeId);
        sim.disarmFaults();
        await sim.start(ids.filter((id) => !sim.node(id).powered));
        await sim.startCorosync(ids);
        await sim.carrierUp(ids.filter((id) => !sim.node(id).carrier));
        await sim.heal([]);
        // The link's confirmation (a new ring, or corosync's detection time) before a master takes the IP back.
        await sim.wait(cluster.takeoverDelayMs + 4_001);
        const settled = checkInvariants(sim);
        const newest = [...sim.nodes.values()].reduce((a, b) => (b.config.configVersion > a.config.configVersion ? b : a)).config;
        const eligible = newest.nodes.some((n) => n.replication && n.standby !== true && n.prio !== undefined);
        const masters = [...sim.nodes.values()].filter((n) => n.engine?.role === 'master').map((n) => n.nodeId);
        if (eligible && masters.length !== 1) settled.push(`healed cluster has ${masters.length} masters`);
        for (const n of sim.nodes.values()) {
          // Except VMs whose suspend result died with the daemon: unknown to the engine, they
          // stay suspended on purpose (never resumed blindly).
          const left = [...n.suspended].filter((vm) => !sim.lostSuspendResults.has(vm));
          if (left.length > 0) settled.push(`n${n.nodeId} still holds suspended VMs ${left.join(',')}`);
        }
        if (settled.length > 0) throw new Error(`after ${history.join(' ; ')} ; heal everything:\n${settled.join('\n')}`);
        decisions += sim.decisions;
      }),
      { seed: SEED, numRuns: RUNS },
    );
    console.log(`randomised engine schedules: ${schedules} schedules, ${steps} steps, ${decisions} decisions checked (seed ${SEED})`);
    console.log(`cluster IP added while another member of the same ring held it: ${overlapsAfterEdits}, all in schedules with an operator edit`);
    expect(schedules).toBeGreaterThanOrEqual(RUNS);
  });
});
