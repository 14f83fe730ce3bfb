// The daemon's ConfigPublisher (the port in publisher-port.ts): configuration distribution over
// the CPG group (ConfigChannel) plus the config sync service for starting nodes
// (ConfigSyncServer on this node's ring0 address). src/cluster never imports src/daemon;
// test/unit/cluster/config-publisher.test.ts runs it inside the daemon.
import type { WriteCorosyncConfOptions } from '../config';
import type { ConfigLink, ConfigPublisher } from './publisher-port';
import type { ClusterKey } from './cluster-key';
import { ConfigChannel } from './config-channel';
import type { DistributorLog } from './config-distributor';
import { isConfigMessageType } from './config-messages';
import { ConfigSyncServer, DEFAULT_SYNC_PORT } from './config-sync';
import type { DecodedMessage } from './envelope';
import { readLocalConfig } from './local-config';
import { loadCorosyncConfText } from '../config';

export interface ClusterConfigPublisherOptions {
  key: ClusterKey;
  confPath: string;
  log: DistributorLog;
  write?: WriteCorosyncConfOptions;
  ackTimeoutMs?: number;
  /** The sync service's port (default 5407); null: do not serve. */
  syncPort?: number | null;
  /** Default: this node's ring0_addr in corosync.conf. */
  syncHost?: string;
}

export class ClusterConfigPublisher implements ConfigPublisher {
  private link: ConfigLink | undefined;
  private channel: ConfigChannel | undefined;
  private server: ConfigSyncServer | undefined;

  constructor(private readonly options: ClusterConfigPublisherOptions) {}

  attach(link: ConfigLink | undefined): void {
    this.link = link;
    if (link === undefined) return;
    if (this.channel === undefined) {
      const localNodeId = link.localNodeId;
      this.channel = new ConfigChannel({
        localNodeId,
        key: this.options.key,
        confPath: this.options.confPath,
        send: (data) => (this.link ? this.link.send(data) : Promise.reject(new Error('not connected to corosync'))),
        reload: () => {
          if (!this.link) throw new Error('not connected to corosync');
          this.link.reloadConfig();
        },
        log: this.options.log,
        write: this.options.write,
        ackTimeoutMs: this.options.ackTimeoutMs,
        isPublisher: () => {
          const master = this.link?.masterId();
          return master === null || master === undefined ? undefined : master === localNodeId;
        },
        onInstalled: () => this.link?.configInstalled(),
        onPeerVersion: (nodeId, version) => {
          if (version <= BigInt(Number.MAX_SAFE_INTEGER)) this.link?.peerVersion(nodeId, Number(version));
        },
        localSide: () => this.link?.localSide() ?? { role: 'unknown', master: null, since: null },
        onConflict: (c) => {
          if (c.version <= BigInt(Number.MAX_SAFE_INTEGER))
            this.link?.configConflict({ from: c.from, version: Number(c.version), peerRole: c.peerRole, peerMaster: c.peerMaster, peerSince: c.peerSince });
        },
      });
      if (this.options.syncPort !== null) void this.startSyncServer(localNodeId);
    }
  }

  async publish(request: { configVersion: number }): Promise<void> {
    if (this.channel === undefined) throw new Error('not connected to corosync: cannot publish corosync.conf');
    await this.channel.publishConfig(request);
  }

  /** Serialises the daemon's own edits of corosync.conf with installs of peers' files. */
  withConfigLock<T>(edit: () => Promise<T>): Promise<T> {
    return this.channel ? this.channel.distributor.exclusive(edit) : edit();
  }

  onMessage(from: number, decoded: DecodedMessage): boolean {
    if (this.channel === undefined) return isConfigMessageType(decoded.type);
    return this.channel.onDecoded(from, decoded);
  }

  onGroupMembership(members: number[], joined: number[]): void {
    void this.channel?.distributor.onMembership(members, joined);
  }

  async close(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** A failure (address not configured here, port taken) is logged: distribution still works. */
  private async startSyncServer(localNodeId: number): Promise<void> {
    try {
      const local = await readLocalConfig(this.options.confPath);
      const host = this.options.syncHost ?? loadCorosyncConfText(local.content, this.options.confPath).view.nodes.find((n) => n.nodeid === localNodeId)?.ringAddrs[0];
      if (host === undefined) throw new Error(`node ${localNodeId} has no ring0_addr in ${this.options.confPath}`);
      const server = new ConfigSyncServer({
        key: this.options.key,
        readLocal: () => readLocalConfig(this.options.confPath),
        host,
        port: this.options.syncPort ?? DEFAULT_SYNC_PORT,
        log: this.options.log,
        allowPeer: nodelistPeers(this.options.confPath),
      });
      const port = await server.listen();
      this.server = server;
      this.options.log.info({ host, port }, 'config sync service listening');
    } catch (err) {
      this.options.log.error({ err }, 'config sync service not started: starting nodes cannot fetch corosync.conf from this one');
    }
  }
}

/**
 * The sync service serves only addresses of the nodelist (issue 18): the file's ring addresses,
 * re-read at most once a second when an unknown address asks (a node just added).
 */
function nodelistPeers(confPath: string): (address: string) => Promise<boolean> {
  let allowed = new Set<string>();
  let readAt = Number.NEGATIVE_INFINITY;
  return async (address) => {
    if (allowed.has(address)) return true;
    if (Date.now() - readAt < 1_000) return false;
    readAt = Date.now();
    try {
      const local = await readLocalConfig(confPath);
      allowed = new Set(loadCorosyncConfText(local.content, confPath).view.nodes.flatMap((n) => Object.values(n.ringAddrs)));
    } catch {
      return false;
    }
    return allowed.has(address);
  };
}
