// Safety invariants of the whole cluster, checked by the scenario and randomised tests after
// every step has been processed everywhere (the simulator is quiescent).
import { nodeById } from '../engine/election';
import type { ClusterView } from '../engine/types';
import { nodeName, type SimNode, type Simulator } from './simulator';

export function checkInvariants(sim: Simulator): string[] {
  const problems: string[] = [...sim.violations];
  const partitions = new Map<string, SimNode[]>();
  // A frozen node decides nothing: its engine's role and what it holds are as before the freeze (its
  // watchdog resets it); only its VMs count (they would run again if it thawed).
  const live = [...sim.nodes.values()].filter((n) => n.frozen !== true);
  for (const n of live) {
    if (n.engine === null) continue;
    // In maintenance no listener acts (operations.ts): a master cut off keeps what it holds, by design.
    if (n.engine.role === 'master' && !(n.corosyncUp && n.quorate) && n.engine.config?.maintenance !== true) {
      problems.push(`${nodeName(n.nodeId)} is master without quorum`);
    }
    if (!n.corosyncUp || n.ring === null) continue;
    const key = `${n.ring.nodeId}/${n.ring.seq}`;
    const list = partitions.get(key) ?? [];
    list.push(n);
    partitions.set(key, list);
  }

  // What a node holds, not only what its engine believes: master duties only on the master,
  // never without quorum, and one cluster IP per partition.
  for (const n of live) {
    const duties = (['clusterIp', 'service', 'serviceLock'] as const).filter((d) => n.held[d]);
    if (duties.length === 0) continue;
    if (n.engine?.role !== 'master') problems.push(`${nodeName(n.nodeId)} holds ${duties.join(',')} as ${n.engine?.role ?? 'a node without a listener'}`);
    else if (!(n.corosyncUp && n.quorate) && n.engine.config?.maintenance !== true) problems.push(`${nodeName(n.nodeId)} holds ${duties.join(',')} without quorum`);
  }

  for (const [ring, members] of partitions) {
    // One content per config_version among the members of a partition: two files with one
    // version would let the nodes elect from different tables. (Across partitions a fork can
    // exist, e.g. a master cut off right after its raise while a node that never saw it elected
    // takes over elsewhere; it is settled when they merge, and the healed cluster must have one.)
    const contents = new Map<number, { nodeId: number; table: string }>();
    for (const n of members) {
      const table = describeTable(n.config);
      const seen = contents.get(n.config.configVersion);
      if (seen === undefined) contents.set(n.config.configVersion, { nodeId: n.nodeId, table });
      else if (seen.table !== table) problems.push(`ring ${ring}: config_version ${n.config.configVersion} has two contents: ${nodeName(seen.nodeId)} ${seen.table} vs ${nodeName(n.nodeId)} ${table}`);
    }
    const holders = members.filter((n) => n.held.clusterIp);
    if (holders.length > 1) problems.push(`ring ${ring}: cluster IP held by ${holders.map((n) => nodeName(n.nodeId)).join(',')}`);
    const masters = members.filter((n) => n.engine?.role === 'master');
    if (masters.length > 1) problems.push(`ring ${ring}: ${masters.length} masters (${masters.map((n) => nodeName(n.nodeId)).join(',')})`);
    const named = new Set<number>();
    for (const n of members) if (n.engine?.masterId != null) named.add(n.engine.masterId);
    for (const m of masters) named.add(m.nodeId);
    if (named.size > 1) problems.push(`ring ${ring}: nodes disagree on the master (${[...named].map(nodeName).join(' vs ')})`);
    const newest = Math.max(...members.map((n) => n.config.configVersion));
    for (const m of masters) {
      const info = nodeById(m.config, m.nodeId);
      if (info === undefined || !info.replication || info.standby === true || info.prio === undefined) problems.push(`ring ${ring}: ineligible master ${nodeName(m.nodeId)}`);
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

function describeTable(view: ClusterView): string {
  const nodes = view.nodes.map((n) => `${nodeName(n.nodeId)}:${n.prio ?? '-'}${n.replication ? '' : '/off'}${n.standby === true ? '/standby' : ''}`).join(' ');
  return view.maintenance === true ? `${nodes} maintenance` : nodes;
}
