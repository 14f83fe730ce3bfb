// Creating a cluster's namespaces, links, mounts and configuration files from its resolved
// description. Every step is a plain argv command; each waits for the kernel to have done its
// part (ip and mount return once the object exists). One thing the kernel finishes later: a
// bridge's operational state (and with it the queue its frames leave by) is set by deferred work
// (linkwatch, rate-limited to once a second, later on a busy machine), and until then every
// frame sent through it is dropped without an error. So createCluster also waits for every
// bridge and veth to be operationally up (waitClusterNetwork, beside corosync's start): when it
// resolves, the network carries frames.
//
// Mount namespaces: each node gets a persistent mount namespace, held by bind-mounting it on a
// file (`unshare --mount=FILE`), in which the node's private directories cover /etc/corosync,
// /var/lib/corosync, /var/log/corosync, /tmp and /run, and a sysfs of the node's network
// namespace covers /sys. Processes then enter it with `nsenter --mount=FILE` - no shell script
// is involved anywhere. The file must sit on a private mount (else the namespace would be
// propagated into itself), hence the private bind mount of the cluster's ns/ directory.
// Propagation in the node namespace is `slave`: mounts made inside stay inside, while unmounts
// on the host (another cluster's `ip netns delete`) still reach it, so a node namespace never
// keeps another cluster's network namespaces alive.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runChecked } from './command';
import { renderCorosyncConf } from './conf';
import { HUB_BRIDGE, NODE_BRIDGE, NODE_IFACE, NODE_MOUNTS, confPathOf, hidingMount, hostPathOf, type ResolvedCluster, type ResolvedNode } from './spec';

export function netnsPath(netns: string): string {
  return `/run/netns/${netns}`;
}

async function buildHub(c: ResolvedCluster): Promise<void> {
  await runChecked(['ip', 'netns', 'add', c.hubNetns]);
  await runChecked(['ip', '-n', c.hubNetns, 'link', 'add', HUB_BRIDGE, 'type', 'bridge']);
  await runChecked(['ip', '-n', c.hubNetns, 'link', 'set', HUB_BRIDGE, 'up']);
}

async function buildNodeNetwork(c: ResolvedCluster, n: ResolvedNode): Promise<void> {
  const hub = ['ip', '-n', c.hubNetns];
  const node = ['ip', '-n', n.netns];
  await runChecked(['ip', 'netns', 'add', n.netns]);
  await runChecked([...node, 'link', 'set', 'lo', 'up']);
  await runChecked([...node, 'link', 'add', NODE_BRIDGE, 'type', 'bridge']);
  // Created from the hub side with the peer directly in the node: no interface ever exists in
  // the host namespace, so parallel clusters cannot collide on interface names.
  await runChecked([...hub, 'link', 'add', n.hubVeth, 'type', 'veth', 'peer', 'name', NODE_IFACE, 'netns', n.netns]);
  await runChecked([...hub, 'link', 'set', n.hubVeth, 'master', HUB_BRIDGE, 'up']);
  await runChecked([...node, 'link', 'set', NODE_IFACE, 'master', NODE_BRIDGE, 'up']);
  await runChecked([...node, 'addr', 'add', `${n.address}/24`, 'dev', NODE_BRIDGE]);
  await runChecked([...node, 'link', 'set', NODE_BRIDGE, 'up']);
}

async function buildNodeMounts(n: ResolvedNode, keepVisible: readonly string[]): Promise<void> {
  fs.writeFileSync(n.mountNsFile, '');
  await runChecked(['unshare', `--mount=${n.mountNsFile}`, '--propagation', 'slave', 'true']);
  const inNode = ['nsenter', `--mount=${n.mountNsFile}`, '--'];
  // A host directory the node must keep seeing is bound, while still visible, onto the same
  // place in the node's private directory; the recursive bind below then carries it along.
  for (const p of keepVisible) {
    const inPrivate = hostPathOf(n, p);
    fs.mkdirSync(inPrivate, { recursive: true });
    await runChecked([...inNode, 'mount', '--bind', p, inPrivate]);
  }
  for (const m of NODE_MOUNTS) {
    const carries = keepVisible.some((p) => hidingMount(p) === m.target);
    await runChecked([...inNode, 'mount', carries ? '--rbind' : '--bind', path.join(n.dir, m.sub), m.target]);
  }
  // A sysfs mounted from inside the netns shows that namespace's interfaces (as `ip netns exec` does).
  await runChecked(['nsenter', `--net=${netnsPath(n.netns)}`, `--mount=${n.mountNsFile}`, '--', 'mount', '-t', 'sysfs', 'sysfs', '/sys']);
}

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

/** Bounds a wait for the kernel's deferred link work; generous (a loaded machine), never a speed claim. */
const OPERATIONAL_DEADLINE_MS = 120_000;

/** A link as `ip -j link show` reports it (the fields the sandbox reads). */
export interface NetnsLink {
  ifname: string;
  master?: string;
  flags?: string[];
  operstate?: string;
}

/** Every link of network namespace `netns`. */
export async function linksIn(netns: string): Promise<NetnsLink[]> {
  return JSON.parse(await runChecked(['ip', '-n', netns, '-j', 'link', 'show'])) as NetnsLink[];
}

/**
 * Resolves once every device named has operstate UP in `netns` (see the head of this file);
 * throws naming the devices still not up when the deadline passes.
 */
export async function waitOperational(netns: string, devices: readonly string[]): Promise<void> {
  const deadline = Date.now() + OPERATIONAL_DEADLINE_MS;
  for (;;) {
    const links = await linksIn(netns);
    const notUp = devices.filter((d) => links.find((l) => l.ifname === d)?.operstate !== 'UP');
    if (notUp.length === 0) return;
    if (Date.now() > deadline) {
      const states = notUp.map((d) => `${d} ${links.find((l) => l.ifname === d)?.operstate ?? 'missing'}`).join(', ');
      throw new Error(`sandbox network namespace ${netns}: not operationally up after ${OPERATIONAL_DEADLINE_MS / 1000} s: ${states}`);
    }
    await sleep(20);
  }
}

/** Create everything of cluster `c` (whose state file is already written). */
export async function buildCluster(c: ResolvedCluster): Promise<void> {
  fs.mkdirSync(c.nsDir, { recursive: true });
  for (const n of c.nodes) {
    for (const m of NODE_MOUNTS) fs.mkdirSync(path.join(n.dir, m.sub), { recursive: true });
    fs.chmodSync(path.join(n.dir, 'tmp'), 0o1777);
    writeFileAtomic(confPathOf(n), renderCorosyncConf(c));
  }
  await runChecked(['mount', '--bind', c.nsDir, c.nsDir]);
  await runChecked(['mount', '--make-private', c.nsDir]);
  await buildHub(c);
  await Promise.all(c.nodes.map((n) => buildNodeNetwork(c, n)));
  await Promise.all(c.nodes.map((n) => buildNodeMounts(n, c.keepVisible ?? [])));
}

/** Resolves once the hub's and every node's bridge and veth carry frames (see the head of this file). */
export async function waitClusterNetwork(c: ResolvedCluster): Promise<void> {
  await Promise.all([waitOperational(c.hubNetns, [HUB_BRIDGE, ...c.nodes.map((n) => n.hubVeth)]), ...c.nodes.map((n) => waitOperational(n.netns, [NODE_BRIDGE, NODE_IFACE]))]);
}
