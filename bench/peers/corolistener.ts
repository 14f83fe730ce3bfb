// corolistener on every node of a sandbox cluster, as bench/failover runs it: `corolistener run`
// with the sandbox's fake VMmanager (its commands record their calls), in the nodes' own
// network and mount namespaces.
import { startListeners, type SandboxCluster } from '../../dist/sandbox';
import { daemonTimes } from '../failover/own-logs';
import type { RunningPeer } from './peer';

export async function startCorolistener(cluster: SandboxCluster): Promise<RunningPeer> {
  const listeners = await startListeners(cluster);
  return {
    expectedMaster: null,
    async settled(holder: string): Promise<boolean> {
      // Every daemon agrees: the holder says master, every other one slave.
      const roles = await Promise.all(listeners.map(async (l) => [l.node.name, (await l.status().catch(() => undefined))?.daemon.role] as const));
      return roles.every(([name, role]) => role === (name === holder ? 'master' : 'slave'));
    },
    decisionMs: (node, sinceMs) => {
      const l = listeners.find((x) => x.node.name === node);
      return l === undefined ? undefined : daemonTimes(l, sinceMs).decisionMs;
    },
    diagnostics: () => listeners.map((l) => `--- corolistener on ${l.node.name}\n${l.diagnostics(8)}`).join('\n'),
    async stop(): Promise<void> {
      await Promise.all(listeners.map((l) => l.kill().catch(() => undefined)));
    },
  };
}
