// Looking at a node's network from outside: which IPv4 addresses an interface holds and its
// MAC address, read with `ip -j` in the node's network namespace. Tests and the demo use this
// to see where the cluster IP really is, independently of what the listeners report.
import { runChecked } from './command';
import type { NodeRef, SandboxCluster } from './cluster';

interface IpAddrJson {
  ifname: string;
  address?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number }>;
}

async function linkJson(cluster: SandboxCluster, ref: NodeRef, dev: string): Promise<IpAddrJson> {
  const out = await runChecked(['ip', '-n', cluster.node(ref).netns, '-j', 'addr', 'show', 'dev', dev]);
  const links = JSON.parse(out) as IpAddrJson[];
  if (links.length !== 1) throw new Error(`node ${cluster.node(ref).name}: no interface ${dev}`);
  return links[0]!;
}

/** IPv4 addresses on `dev` of node `ref`, as `ADDRESS/PREFIX`. */
export async function ipv4On(cluster: SandboxCluster, ref: NodeRef, dev = 'vmbr0'): Promise<string[]> {
  const link = await linkJson(cluster, ref, dev);
  return (link.addr_info ?? []).filter((a) => a.family === 'inet').map((a) => `${a.local}/${a.prefixlen}`);
}

/** MAC address (lowercase) of `dev` of node `ref`. */
export async function macOf(cluster: SandboxCluster, ref: NodeRef, dev = 'vmbr0'): Promise<string> {
  const link = await linkJson(cluster, ref, dev);
  if (!link.address) throw new Error(`node ${cluster.node(ref).name}: ${dev} has no MAC address`);
  return link.address.toLowerCase();
}

/** Names of the nodes whose `dev` holds `ip` (any prefix length). */
export async function holdersOf(cluster: SandboxCluster, ip: string, dev = 'vmbr0'): Promise<string[]> {
  const held = await Promise.all(cluster.nodes.map(async (n) => (await ipv4On(cluster, n.name, dev)).some((a) => a.split('/')[0] === ip)));
  return cluster.nodes.filter((_, i) => held[i]).map((n) => n.name);
}
