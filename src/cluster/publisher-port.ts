// What the daemon asks of configuration distribution, and what distribution may use of the
// daemon. Declared here, beside the one real implementation (config-publisher.ts), so that
// src/daemon depends on src/cluster and never the other way round.
import type { ConfigConflictEvent, Role } from '../engine/types';
import type { DecodedMessage } from './envelope';

/**
 * Tells the other members to take the new corosync.conf (ClusterConfigPublisher is the real
 * one). The optional hooks give it the CPG group: the session, configuration messages and group
 * membership.
 */
export interface ConfigPublisher {
  publish(request: { configVersion: number; corosyncConf: string; localNodeId: number }): Promise<void>;
  /** A corosync session was opened (undefined: it closed). */
  attach?(link: ConfigLink | undefined): void;
  /** A decoded CPG message of a type the daemon does not handle itself; false if not one it knows. */
  onMessage?(from: number, decoded: DecodedMessage): boolean;
  onGroupMembership?(members: number[], joined: number[]): void;
  /** Runs the daemon's own edit of corosync.conf so that no install of a peer's file interleaves. */
  withConfigLock?<T>(edit: () => Promise<T>): Promise<T>;
  /** The daemon stops. */
  close?(): Promise<void>;
}

/** What a ConfigPublisher may use of the daemon while a corosync session is open. */
export interface ConfigLink {
  localNodeId: number;
  send(data: Buffer): Promise<void>;
  reloadConfig(): void;
  /** Whom the engine names master now (null: nobody, or this node is stale). */
  masterId(): number | null;
  /** A new corosync.conf was installed here: re-read it (the engine trusts the file first). */
  configInstalled(): void;
  /**
   * A peer proved with a signed message that it holds this config_version; cmap shows it only
   * after the cluster-wide reload, and until then the engine must not take it for stale.
   */
  peerVersion(nodeId: number, version: number): void;
  /** The engine's role, the master it names and (as master) since which ring, for the other nodes (offers and hellos). */
  localSide(): { role: Role; master: number | null; since: number | null };
  /** A member holds another file with our config_version: the engine decides who raises. */
  configConflict(conflict: Omit<ConfigConflictEvent, 'type' | 'now'>): void;
}
