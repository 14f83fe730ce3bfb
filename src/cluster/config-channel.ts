// Wires the ConfigDistributor to the real world: the CPG group (send, decoded messages,
// membership), Cfg.reloadConfig(), corosync.conf on disk (src/config) and real timers.
//
// A received message has been decoded by the shared codec (size limit, envelope, protocol
// version, schema, digest: messages.ts); here its MAC is checked with the cluster key. A
// rejected message is logged with the sender and the reason and changes nothing.
import type { WriteCorosyncConfOptions } from '../config';
import type { ClusterKey } from './cluster-key';
import { ConfigDistributor, type ConfigConflictReport, type DistributorLog, type LocalConfig } from './config-distributor';
import { type ConfigMessage, type SenderSide, encodeConfigMessage, isConfigMessageType, verifyConfigMessage } from './config-messages';
import { type DecodedMessage, type MessageCodec, MessageError } from './envelope';
import { installConfig, readLocalConfig } from './local-config';
import { createMessageCodec } from './messages';

export interface ConfigChannelOptions {
  localNodeId: number;
  key: ClusterKey;
  confPath: string;
  /** Multicast in agreed order (Cpg.send). */
  send(data: Buffer): Promise<void>;
  /** Cfg.reloadConfig(). */
  reload(): void;
  log: DistributorLog;
  write?: WriteCorosyncConfOptions;
  ackTimeoutMs?: number;
  // Function properties rather than methods: they are handed on to the distributor as they are,
  // not called on this object.
  /** Timers (default setTimeout); injected by tests. */
  setTimer?: (ms: number, fn: () => void) => () => void;
  isPublisher?: () => boolean | undefined;
  onInstalled?: (config: LocalConfig) => void;
  onPeerVersion?: (nodeId: number, version: bigint) => void;
  localSide?: () => SenderSide;
  onConflict?: (conflict: ConfigConflictReport) => void;
}

export class ConfigChannel {
  readonly distributor: ConfigDistributor;
  readonly codec: MessageCodec = createMessageCodec();

  constructor(private readonly options: ConfigChannelOptions) {
    this.distributor = new ConfigDistributor({
      localNodeId: options.localNodeId,
      send: (msg: ConfigMessage) => options.send(encodeConfigMessage(msg, options.key)),
      readLocal: () => readLocalConfig(options.confPath),
      install: (content, version) => installConfig(options.confPath, content, version, options.write),
      reload: () => options.reload(),
      setTimer:
        options.setTimer ??
        ((ms, fn) => {
          const t = setTimeout(fn, ms);
          return () => clearTimeout(t);
        }),
      log: options.log,
      ackTimeoutMs: options.ackTimeoutMs,
      isPublisher: options.isPublisher,
      onInstalled: options.onInstalled,
      onPeerVersion: options.onPeerVersion,
      localSide: options.localSide,
      onConflict: options.onConflict,
    });
  }

  /** The engine's `publishConfig {configVersion}`. */
  publishConfig(effect: { configVersion: number | bigint }): Promise<void> {
    return this.distributor.publish(BigInt(effect.configVersion));
  }

  /** A raw CPG `message` event: decoded here (for callers without their own dispatch). */
  onCpgMessage(event: { nodeId: number; data: Buffer }): void {
    let decoded: DecodedMessage;
    try {
      decoded = this.codec.decode(event.data);
    } catch (err) {
      if (!(err instanceof MessageError)) throw err;
      this.reject(event.nodeId, err.code, err.message);
      return;
    }
    this.onDecoded(event.nodeId, decoded);
  }

  /** A message the daemon's dispatch decoded; returns false when it is not a config message. */
  onDecoded(from: number, decoded: DecodedMessage): boolean {
    if (!isConfigMessageType(decoded.type)) return false;
    const msg = verifyConfigMessage({ type: decoded.type, body: decoded.body }, this.options.key);
    if (msg === undefined) this.reject(from, 'bad-mac', `${decoded.type}: bad MAC (not signed with this cluster's key)`);
    else void this.distributor.onMessage(from, msg);
    return true;
  }

  /** A CPG `confchg` event: current members and joiners. */
  onCpgConfchg(event: { members: readonly { nodeId: number }[]; joined: readonly { nodeId: number }[] }): Promise<void> {
    return this.distributor.onMembership(
      event.members.map((m) => m.nodeId),
      event.joined.map((m) => m.nodeId),
    );
  }

  private reject(from: number, code: string, error: string): void {
    this.options.log.warn({ from, code, error }, 'cluster message rejected');
  }
}
