// What `corolistener config sync` does before corosync starts: ask every peer in this node's own
// nodelist for its file (in parallel, each with a timeout), take the newest verified answer,
// and install it if it is newer than ours (or, at equal version, wins the conflict rule).
// With no peer answering, the file is left as it is: the node may be the first one up.
import { networkInterfaces } from 'node:os';
import type { WriteCorosyncConfOptions } from '../config';
import type { ClusterKey } from './cluster-key';
import { supersedes } from './config-distributor';
import { type FetchOptions, type SyncResponse, fetchConfigFromPeer } from './config-sync';
import { installConfig, readLocalConfig } from './local-config';
import { loadCorosyncConfText } from '../config';

export interface SyncFromPeersOptions {
  confPath: string;
  key: ClusterKey;
  port?: number;
  timeoutMs?: number;
  /** This host's addresses (default: every interface's); peers are the other nodes' ring0_addr. */
  localAddresses?: readonly string[];
  write?: WriteCorosyncConfOptions;
  fetch?: (options: FetchOptions) => Promise<SyncResponse>;
  /**
   * Ask this host only (`config sync --from HOST`, issue 18): the bootstrap of a node added to the
   * nodelist that has no corosync.conf yet (a missing file counts as version 0). The answer is
   * still authenticated with the cluster key and installed only after validation.
   */
  from?: string;
}

export interface PeerResult {
  peer: string;
  version?: bigint;
  error?: string;
}

export type SyncOutcome =
  | { status: 'installed'; from: string; previous: bigint; version: bigint; peers: PeerResult[]; created?: boolean }
  | { status: 'up-to-date'; version: bigint; peers: PeerResult[] }
  | { status: 'no-peer'; version: bigint; peers: PeerResult[] };

export function localAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address));
}

async function readOrNone(path: string, from: string | undefined): Promise<{ version: bigint; sha256: string; content: string } | null> {
  try {
    return await readLocalConfig(path);
  } catch (err) {
    if (from !== undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function syncFromPeers(options: SyncFromPeersOptions): Promise<SyncOutcome> {
  const existing = await readOrNone(options.confPath, options.from);
  const local = existing ?? { version: 0n, sha256: '', content: '' };
  const mine = new Set(options.localAddresses ?? localAddresses());
  const peers =
    options.from !== undefined
      ? [options.from]
      : loadCorosyncConfText(local.content, options.confPath)
          .view.nodes.map((n) => n.ringAddrs[0])
          .filter((a): a is string => a !== undefined && !mine.has(a));
  const fetch = options.fetch ?? fetchConfigFromPeer;
  const settled = await Promise.allSettled(peers.map((host) => fetch({ key: options.key, host, port: options.port, have: local.version, timeoutMs: options.timeoutMs })));
  const results: PeerResult[] = [];
  let best: { peer: string; res: SyncResponse } | undefined;
  settled.forEach((s, i) => {
    const peer = peers[i]!;
    if (s.status === 'rejected') {
      results.push({ peer, error: (s.reason as Error).message });
      return;
    }
    results.push({ peer, version: s.value.version });
    if (!best || supersedes(s.value, best.res)) best = { peer, res: s.value };
  });
  if (!best) return { status: 'no-peer', version: local.version, peers: results };
  if (!supersedes(best.res, local)) return { status: 'up-to-date', version: local.version, peers: results };
  await installConfig(options.confPath, best.res.content, best.res.version, options.write);
  return { status: 'installed', from: best.peer, previous: local.version, version: best.res.version, peers: results, ...(existing === null ? { created: true } : {}) };
}
