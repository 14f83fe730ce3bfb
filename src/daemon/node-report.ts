// What the daemon and `corolistener -l` (without a daemon) derive from corosync.conf: the
// engine's ClusterView and the NodeListReport. One place, so both show the same table.
import type { CorosyncConfView } from '../config/corosync-conf-view';
import type { ClusterView, NodeInfo } from '../engine/types';
import type { NodeListReport } from './report';

/**
 * The engine's view of a validated corosync.conf. A node without `replication` counts as
 * `on`: only an explicit `replication: off` says the node has no replica (docs/design.md §1).
 */
export function clusterViewOf(conf: CorosyncConfView, takeoverDelayMs: number): ClusterView {
  const nodes: NodeInfo[] = [];
  for (const n of conf.nodes) {
    if (n.nodeid === undefined) continue;
    const node: NodeInfo = { nodeId: n.nodeid, ip: n.ringAddrs[0] ?? '', prio: n.prio, replication: n.replication ?? true };
    if (n.standby === true) node.standby = true;
    nodes.push(node);
  }
  const view: ClusterView = { configVersion: engineVersion(conf.configVersion), nodes, takeoverDelayMs };
  if (conf.maintenance === true) view.maintenance = true;
  return view;
}

/** The largest config_version the engine compares exactly (it keeps versions as JavaScript numbers). */
export const MAX_ENGINE_CONFIG_VERSION = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * corosync's uint64 config_version as the engine's number; a version above 2^53-1 cannot be
 * compared exactly, so it is refused (never silently rounded: two files would look the same).
 */
export function engineVersion(version: bigint | undefined, file = 'corosync.conf'): number {
  const v = version ?? 0n;
  if (v > MAX_ENGINE_CONFIG_VERSION) {
    throw new RangeError(`${file}: totem.config_version ${v} is above ${MAX_ENGINE_CONFIG_VERSION}, the largest corolistener compares exactly; lower it`);
  }
  return Number(v);
}

export interface ReportInput {
  conf: CorosyncConfView;
  localNodeId: number;
  /** null: no quorum information (e.g. corosync unreachable). */
  quorum: { quorate: boolean; members: readonly number[] } | null;
  /** The master the election names, null when none or unknown. */
  masterId: number | null;
}

export function buildNodeListReport(input: ReportInput): NodeListReport {
  const { conf, quorum } = input;
  const quorate = quorum?.quorate ?? false;
  const masterId = quorate ? input.masterId : null;
  const view = clusterViewOf(conf, 0);
  return {
    cluster: {
      name: conf.clusterName ?? '',
      quorate,
      configVersion: view.configVersion,
      expectedVotes: conf.expectedVotes ?? view.nodes.length,
      ...(view.maintenance === true ? { maintenance: true } : {}),
    },
    localNodeId: input.localNodeId,
    masterNodeId: masterId,
    nodes: view.nodes.map((n) => {
      const joined = quorum?.members.includes(n.nodeId) ?? false;
      return {
        id: n.nodeId,
        ip: n.ip,
        status: joined ? 'joined' : 'left',
        role: masterId === null || !joined ? '-' : n.nodeId === masterId ? 'M' : 'S',
        priority: n.prio ?? null,
        replication: n.replication,
        ...(n.standby === true ? { standby: true } : {}),
      };
    }),
  };
}
