import { describe, expect, it } from 'vitest';
import { Simulator, type SimOptions } from '../../../src/simulator';

const options = (interleaveSeed?: number): SimOptions => ({
  nodes: [1, 2, 3, 4, 5].map((nodeId) => ({ nodeId, prio: 10 - nodeId, replication: true, vms: [`vm${nodeId}`] })),
  interleaveSeed,
});

async function logOf(seed?: number): Promise<string[]> {
  const sim = new Simulator(options(seed));
  await sim.start([1, 2, 3, 4, 5]);
  await sim.split([
    [1, 2],
    [3, 4, 5],
  ]);
  await sim.heal([]);
  return sim.takeLog();
}

const perNode = (log: string[], node: string): string[] => log.filter((l) => l.startsWith(`${node} `));

describe('Simulator', () => {
  it('is deterministic for a given interleave seed', async () => {
    expect(await logOf(7)).toEqual(await logOf(7));
  });

  it('interleaves nodes differently per seed, with the same outcome', async () => {
    const orders = new Set<string>();
    for (const seed of [undefined, 1, 2, 3, 4, 5]) orders.add((await logOf(seed)).join('\n'));
    expect(orders.size).toBeGreaterThan(1);
    for (const seed of [1, 2, 3]) {
      const sim = new Simulator(options(seed));
      await sim.start([1, 2, 3, 4, 5]);
      sim.takeLog();
      await sim.split([
        [1, 2],
        [3, 4, 5],
      ]);
      // Majority side: n3 takes over and restores n1's and n2's VMs; the minority suspends.
      expect([...sim.nodes.values()].map((n) => n.engine?.role)).toEqual(['suspended', 'suspended', 'master', 'slave', 'slave']);
      expect([...sim.node(3).running].sort()).toEqual(['vm1', 'vm2', 'vm3']);
      expect(perNode(sim.takeLog(), 'n1')).toEqual(['n1 suspended', 'n1 removeClusterIp', 'n1 stopService', 'n1 removeServiceLock', 'n1 removeRelocatedLock', 'n1 suspendVms vm1']);
    }
  });
});
