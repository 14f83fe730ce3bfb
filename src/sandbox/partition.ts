// Network partitions of a sandbox cluster beyond "cut one node off": split the nodes into
// groups that reach each other but not the other groups (2|2|1, 3|2...). Each group beyond the
// first gets its own bridge in the hub namespace (hubp1, hubp2...) and its nodes' hub-side
// veths are moved onto it; healing moves every veth back onto hub0. The extra bridges live in
// the hub namespace, so the cluster's teardown (which deletes that namespace) removes them.
//
// connectivity() reads the hub as it is (link state and bridge of every node's veth), so a
// monitor knows which nodes can reach each other whatever cut them off: a cut(), a partition()
// or both.
import { linksIn, type NetnsLink } from './build';
import { runChecked } from './command';
import type { NodeRef, SandboxCluster } from './cluster';
import { HUB_BRIDGE } from './spec';

const partitionBridge = (i: number): string => `hubp${i}`;

const hubLinks = (cluster: SandboxCluster): Promise<NetnsLink[]> => linksIn(cluster.hubNetns);

async function ensureBridge(cluster: SandboxCluster, name: string, existing: readonly NetnsLink[]): Promise<void> {
  if (!existing.some((l) => l.ifname === name)) {
    await runChecked(['ip', '-n', cluster.hubNetns, 'link', 'add', name, 'type', 'bridge']);
  }
  await runChecked(['ip', '-n', cluster.hubNetns, 'link', 'set', name, 'up']);
}

/**
 * Split the cluster into `groups` (every node in exactly one). Group 0 stays on hub0; nodes of
 * group i > 0 reach only each other. Link up/down state (cut/heal) is left as it is.
 */
export async function partition(cluster: SandboxCluster, groups: readonly (readonly NodeRef[])[]): Promise<void> {
  const names = groups.map((g) => g.map((r) => cluster.node(r).name));
  const all = names.flat();
  const missing = cluster.nodes.filter((n) => !all.includes(n.name)).map((n) => n.name);
  const repeated = all.filter((n, i) => all.indexOf(n) !== i);
  if (missing.length > 0 || repeated.length > 0) {
    throw new Error(`partition: every node in exactly one group (missing: ${missing.join(',') || '-'}; repeated: ${repeated.join(',') || '-'})`);
  }
  const links = await hubLinks(cluster);
  for (let i = 1; i < names.length; i++) await ensureBridge(cluster, partitionBridge(i), links);
  // One `ip` call per node; corosync sees each move as a link failure, like a switch split.
  await Promise.all(
    names.flatMap((group, i) => group.map((name) => runChecked(['ip', '-n', cluster.hubNetns, 'link', 'set', cluster.node(name).hubVeth, 'master', i === 0 ? HUB_BRIDGE : partitionBridge(i)]))),
  );
}

/** Undo partition(): every node's veth back on hub0 (cut nodes stay cut). */
export async function joinPartitions(cluster: SandboxCluster): Promise<void> {
  await partition(cluster, [cluster.nodes.map((n) => n.name)]);
}

/**
 * Which nodes can reach each other now: groups of node names (sorted, groups ordered by their
 * first node). A node whose veth is down is alone.
 */
export async function connectivity(cluster: SandboxCluster): Promise<string[][]> {
  const links = new Map((await hubLinks(cluster)).map((l) => [l.ifname, l]));
  const byBridge = new Map<string, string[]>();
  const groups: string[][] = [];
  for (const n of cluster.nodes) {
    const link = links.get(n.hubVeth);
    const up = link?.flags?.includes('UP') === true;
    if (!link || !up || link.master === undefined) {
      groups.push([n.name]);
      continue;
    }
    const group = byBridge.get(link.master) ?? [];
    if (group.length === 0) {
      byBridge.set(link.master, group);
      groups.push(group);
    }
    group.push(n.name);
  }
  return groups.map((g) => [...g].sort()).sort((a, b) => a[0]!.localeCompare(b[0]!));
}
