// Pacemaker 2.1.5 with an ocf:heartbeat:IPaddr2 resource on the sandbox's own corosync: one
// `pacemakerd -f` per node, in the node's network and mount namespaces. Its daemons find that
// node's corosync through libqb IPC, which is per network namespace (abstract sockets), as
// corolistener's does. Each node gets a private /var/lib/pacemaker (the CIB, owned by
// hacluster, as pacemaker-based runs as that user) and /var/log/pacemaker: bind mounts, made
// inside the node's mount namespace only, of directories in the node's private /run, so they
// vanish with the node.
//
// The CIB is written before the start, the same on every node: fencing off
// (stonith-enabled=false), the IP resource preferring the first node (score 100), a 10 s
// monitor; dc-deadtime 2 s only shortens the start-up wait for a DC (it plays no part in a
// failover: a survivor that loses the DC starts an election at once). Everything else is
// Pacemaker's default, including no-quorum-policy=stop (the cut-off node stops the IP).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { commOf, pidsInNamespaces, removeQbShm, signal, waitGoneSync } from '../../dist/sandbox/procfs';
import type { SandboxCluster } from '../../dist/sandbox';
import type { RunningPeer } from './peer';

const DIR = '/run/peers/pacemaker';
const LOG = '/var/log/pacemaker/pacemaker.log';

export function renderCib(opts: { ip: string; prefix: number; dev: string; preferred: string }): string {
  return `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.9" epoch="1" num_updates="0" admin_epoch="0">
  <configuration>
    <crm_config>
      <cluster_property_set id="cib-bootstrap-options">
        <nvpair id="opt-stonith-enabled" name="stonith-enabled" value="false"/>
        <nvpair id="opt-dc-deadtime" name="dc-deadtime" value="2s"/>
      </cluster_property_set>
    </crm_config>
    <nodes/>
    <resources>
      <primitive id="cluster-ip" class="ocf" provider="heartbeat" type="IPaddr2">
        <instance_attributes id="cluster-ip-params">
          <nvpair id="cluster-ip-ip" name="ip" value="${opts.ip}"/>
          <nvpair id="cluster-ip-cidr" name="cidr_netmask" value="${opts.prefix}"/>
          <nvpair id="cluster-ip-nic" name="nic" value="${opts.dev}"/>
        </instance_attributes>
        <operations>
          <op id="cluster-ip-monitor" name="monitor" interval="10s"/>
        </operations>
      </primitive>
    </resources>
    <constraints>
      <rsc_location id="cluster-ip-prefers-${opts.preferred}" rsc="cluster-ip" node="${opts.preferred}" score="100"/>
    </constraints>
  </configuration>
  <status/>
</cib>
`;
}

/** uid and gid of `user` from /etc/passwd. */
function idsOf(user: string): { uid: number; gid: number } {
  const line = fs
    .readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user} (the pacemaker package creates it)`);
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

async function privateDirs(cluster: SandboxCluster, node: string, cib: string): Promise<void> {
  const { uid, gid } = idsOf('hacluster');
  const root = cluster.hostPath(node, DIR);
  for (const sub of ['lib/cib', 'lib/pengine', 'lib/blackbox', 'lib/cores', 'log']) {
    fs.mkdirSync(path.join(root, sub), { recursive: true, mode: 0o750 });
  }
  for (const sub of ['lib', 'lib/cib', 'lib/pengine', 'lib/blackbox', 'lib/cores', 'log']) fs.chownSync(path.join(root, sub), uid, gid);
  const cibFile = path.join(root, 'lib/cib/cib.xml');
  fs.writeFileSync(cibFile, cib, { mode: 0o600 });
  fs.chownSync(cibFile, uid, gid);
  for (const [sub, target] of [
    ['lib', '/var/lib/pacemaker'],
    ['log', '/var/log/pacemaker'],
  ] as const) {
    const r = await cluster.exec(node, ['mount', '--bind', `${DIR}/${sub}`, target]);
    if (r.code !== 0) throw new Error(`node ${node}: mount --bind ${DIR}/${sub} ${target}: ${r.stderr.trim()}`);
  }
}

/** Pids of Pacemaker's daemons in the node's namespaces. */
function daemonPids(cluster: SandboxCluster): number[] {
  return pidsInNamespaces(cluster.nodes.map((n) => n.netnsPath)).filter((p) => commOf(p)?.startsWith('pacemaker') === true);
}

export async function startPacemaker(cluster: SandboxCluster, opts: { ip: string; prefix: number; dev: string }): Promise<RunningPeer> {
  const preferred = cluster.nodes[0]!.name;
  const cib = renderCib({ ...opts, preferred });
  await Promise.all(cluster.nodes.map((n) => privateDirs(cluster, n.name, cib)));
  const exited: string[] = [];
  const children = cluster.nodes.map((n) => {
    const out = fs.openSync(cluster.hostPath(n.name, `${DIR}/pacemakerd.out`), 'a');
    try {
      const child = cluster.spawn(n.name, ['pacemakerd', '-f'], { stdio: ['ignore', out, out], env: { ...process.env, PCMK_logfile: LOG } });
      child.on('exit', (code, sig) => exited.push(`${n.name}: ${sig ?? `exit code ${code}`}`));
      return child;
    } finally {
      fs.closeSync(out);
    }
  });
  const crmMon = async (): Promise<string> => {
    const r = await cluster.exec(cluster.nodes[1]!.name, ['crm_mon', '--one-shot', '--output-as=xml'], { timeoutMs: 10_000 });
    return r.stdout;
  };
  const diagnostics = (): string =>
    cluster.nodes
      .map((n) => {
        let text = '';
        try {
          text = fs.readFileSync(cluster.hostPath(n.name, `${DIR}/log/pacemaker.log`), 'utf8');
        } catch {
          text = '(no log)';
        }
        const lines = text.split('\n').filter((l) => /error|warning|notice/.test(l));
        return `--- pacemaker on ${n.name}\n${lines.slice(-8).join('\n')}`;
      })
      .join('\n');
  let stopped = false;
  return {
    expectedMaster: preferred,
    async settled(holder: string): Promise<boolean> {
      if (exited.length > 0 && !stopped) throw new Error(`pacemakerd exited (${exited.join(', ')})\n${diagnostics()}`);
      const xml = await crmMon();
      const online = [...xml.matchAll(/<node name="([^"]+)"[^>]* online="true"/g)].map((m) => m[1]);
      const dc = /<current_dc present="true"[^>]* name="([^"]+)"/.exec(xml)?.[1];
      const started = /<resource id="cluster-ip"[^>]* role="Started"[^>]*>\s*<node name="([^"]+)"/.exec(xml)?.[1];
      if (online.length !== cluster.nodes.length || dc === undefined || started !== holder) return false;
      // The DC has nothing left to do (no transition in flight).
      const state = await cluster.exec(holder, ['crmadmin', '--status', dc, '--quiet'], { timeoutMs: 10_000 });
      return /S_IDLE/.test(state.stdout + state.stderr);
    },
    async facts(): Promise<Record<string, string>> {
      const dc = /<current_dc present="true"[^>]* name="([^"]+)"/.exec(await crmMon())?.[1];
      return { dc: dc ?? '?' };
    },
    diagnostics,
    async stop(): Promise<void> {
      stopped = true;
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      // Its daemons were pacemakerd's children: kill them and remove the IPC rings they served
      // (libqb leaves /dev/shm/qb-<server pid>-... behind when its server is killed).
      const pids = daemonPids(cluster);
      for (const p of pids) signal(p, 'SIGKILL');
      waitGoneSync(pids, 5_000);
      pids.forEach(removeQbShm);
    },
  };
}
