// What the peers benchmark needs from each system it compares: start it on every node of a
// fresh sandbox cluster, tell when it has settled, explain itself when it does not, stop it.
import type { ClusterOptions, SandboxCluster } from '../../dist/sandbox';

export interface RunningPeer {
  /** The node that should hold the cluster IP once settled (null: whichever the system picks). */
  expectedMaster: string | null;
  /** True once the system is in its steady state (besides one stable holder of the IP, which the run checks itself); throws when it failed. */
  settled(holder: string): Promise<boolean>;
  /** Facts about this run worth a column (Pacemaker: which node was the DC). */
  facts?(): Promise<Record<string, string>>;
  /** When the new master decided to take over, from its own log (corolistener), if it says. */
  decisionMs?(node: string, sinceMs: number): number | undefined;
  /** Its logs' ends, for an error message. */
  diagnostics(): string;
  /** Stops every process it started (the cluster's teardown kills whatever is left in its namespaces). */
  stop(): Promise<void>;
}

export interface PeerSystem {
  id: string;
  /** Row label in the section. */
  label: string;
  /** Its settings, as the section states them. */
  settings: string;
  /** The sandbox cluster it runs on (corosync started or not). */
  cluster: ClusterOptions;
  /** corosync membership matters (a quorum probe per node reports its detection). */
  usesCorosync: boolean;
  start(cluster: SandboxCluster): Promise<RunningPeer>;
}
