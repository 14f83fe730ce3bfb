// keepalived (Debian's 2.2.7) on every node of a sandbox cluster: one daemon per node, in the
// node's network and mount namespaces, with its configuration and pid files in the node's
// private /run/peers (explicit -f/-p/-r, so no file is shared between nodes or with the host).
// VRRP runs unicast between the nodes' own LAN addresses on vmbr0: its packets never leave the
// sandbox's namespaces. The first node is master by priority (150, then 100, 50).
import * as fs from 'node:fs';
import type { SandboxCluster } from '../../dist/sandbox';
import type { RunningPeer } from './peer';

const DIR = '/run/peers';
const CONF = `${DIR}/keepalived.conf`;

export interface KeepalivedOptions {
  /** VRRP advertisement interval in seconds (keepalived's default: 1). */
  advertIntS: number;
  /** VRRP version: keepalived's default is 2; sub-second intervals need 3. */
  vrrpVersion: 2 | 3;
}

export const priorityOf = (index: number): number => 150 - 50 * index;

export function renderKeepalivedConf(opts: KeepalivedOptions & { node: string; index: number; address: string; peers: readonly string[]; ip: string; prefix: number; dev: string }): string {
  return [
    'global_defs {',
    `  router_id ${opts.node}`,
    `  vrrp_version ${opts.vrrpVersion}`,
    '}',
    '',
    'vrrp_instance cluster_ip {',
    `  state ${opts.index === 0 ? 'MASTER' : 'BACKUP'}`,
    `  interface ${opts.dev}`,
    '  virtual_router_id 51',
    `  priority ${priorityOf(opts.index)}`,
    `  advert_int ${opts.advertIntS}`,
    `  unicast_src_ip ${opts.address}`,
    '  unicast_peer {',
    ...opts.peers.map((p) => `    ${p}`),
    '  }',
    '  virtual_ipaddress {',
    `    ${opts.ip}/${opts.prefix} dev ${opts.dev}`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Starts keepalived on every node; the address appears on the first node once it is master. */
export function startKeepalived(cluster: SandboxCluster, opts: KeepalivedOptions & { ip: string; prefix: number; dev: string }): RunningPeer {
  const children = cluster.nodes.map((n, index) => {
    const dir = cluster.hostPath(n.name, DIR);
    fs.mkdirSync(dir, { recursive: true });
    const peers = cluster.nodes.filter((p) => p.name !== n.name).map((p) => p.address);
    fs.writeFileSync(cluster.hostPath(n.name, CONF), renderKeepalivedConf({ ...opts, node: n.name, index, address: n.address, peers }));
    const out = fs.openSync(cluster.hostPath(n.name, `${DIR}/keepalived.out`), 'a');
    try {
      // -n: stay in the foreground (this process's child, killed by the cluster's teardown at the latest); -l -D: log to stderr in detail.
      return cluster.spawn(n.name, ['keepalived', '-n', '-l', '-D', '-f', CONF, '-p', `${DIR}/keepalived.pid`, '-r', `${DIR}/vrrp.pid`], { stdio: ['ignore', out, out] });
    } finally {
      fs.closeSync(out);
    }
  });
  const startedAt = Date.now();
  // A backup that hears no master takes over after 3 advertisement intervals and its skew: once
  // that long has passed with one holder, every backup has heard the master.
  const settleMs = (3 * opts.advertIntS + 1) * 1000;
  const exited: string[] = [];
  children.forEach((c, i) => c.on('exit', (code, sig) => exited.push(`${cluster.nodes[i]!.name}: ${sig ?? `exit code ${code}`}`)));
  return {
    expectedMaster: cluster.nodes[0]!.name,
    async settled(): Promise<boolean> {
      if (exited.length > 0) throw new Error(`keepalived exited (${exited.join(', ')})\n${diagnostics(cluster)}`);
      return Date.now() - startedAt > settleMs;
    },
    diagnostics: () => diagnostics(cluster),
    async stop(): Promise<void> {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    },
  };
}

function readOut(cluster: SandboxCluster, node: string): string {
  try {
    return fs.readFileSync(cluster.hostPath(node, `${DIR}/keepalived.out`), 'utf8');
  } catch {
    return '';
  }
}

function diagnostics(cluster: SandboxCluster): string {
  return cluster.nodes
    .map((n) => {
      const lines = readOut(cluster, n.name)
        .split('\n')
        .filter((l) => l !== '' && !l.includes('gratuitous ARP on'));
      return `--- keepalived on ${n.name}\n${lines.slice(-8).join('\n')}`;
    })
    .join('\n');
}
