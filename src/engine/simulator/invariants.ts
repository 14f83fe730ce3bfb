// Safety invariants of the whole cluster, checked by the scenario and randomised tests after
// every step has been processed everywhere (the simulator is quiescent).
import { nodeById } from '../election';
import { nodeName, type SimNode, type Simulator } from './simulator';

export function checkInvariants(sim: Simulator): string[] {
  const problems: string[] = [...sim.violations];
  const partitions = new Map<string, SimNode[]>();
  for (const n of sim.nodes.values()) {
    if (n.engine === null) continue;
    if (n.engine.role === 'master' && !(n.corosyncUp && n.quorate)) {
      problems.push(`${nodeName(n.nodeId)} is master without quorum`);
    }
    if (!n.corosyncUp || n.ring === null) continue;
    const key = `${n.ring.nodeId}/${n.ring.seq}`;
    const list = partitions.get(key) ?? [];
    list.push(n);
    partitions.set(key, list);
  }

  for (const [ring, members] of partitions) {
    const masters = members.filter((n) => n.engine?.role === 'master');
    if (masters.length > 1) problems.push(`ring ${ring}: ${masters.length} masters (${masters.map((n) => nodeName(n.nodeId)).join(',')})`);
    const named = new Set<number>();
    for (const n of members) if (n.engine?.masterId != null) named.add(n.engine.masterId);
    for (const m of masters) named.add(m.nodeId);
    if (named.size > 1) problems.push(`ring ${ring}: nodes disagree on the master (${[...named].map(nodeName).join(' vs ')})`);
    const newest = Math.max(...members.map((n) => n.config.configVersion));
    for (const m of masters) {
      const info = nodeById(m.config, m.nodeId);
      if (info === undefined || !info.replication || info.prio === undefined) problems.push(`ring ${ring}: ineligible master ${nodeName(m.nodeId)}`);
      if (m.config.configVersion < newest) problems.push(`ring ${ring}: master ${nodeName(m.nodeId)} has a stale configuration`);
    }
  }

  // A VM must never run twice.
  const where = new Map<string, number[]>();
  for (const n of sim.nodes.values()) {
    for (const vm of n.running) where.set(vm, [...(where.get(vm) ?? []), n.nodeId]);
  }
  for (const [vm, on] of where) if (on.length > 1) problems.push(`VM ${vm} runs on ${on.map(nodeName).join(' and ')}`);
  return problems;
}
