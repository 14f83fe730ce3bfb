// Wires the ConfigDistributor to the real world for the daemon: the CPG group (send, message,
// confchg), Cfg.reloadConfig(), corosync.conf on disk (src/config) and real timers. The daemon
// hands CPG events here and calls publishConfig() for the engine's `publishConfig` effect.
//
// Every received message is decoded by the shared codec (size limit, envelope, protocol
// version, schema, MAC); a rejected one is logged with the sender and the reason and changes
// nothing.
import type { WriteCorosyncConfOptions } from '../config';
import type { ClusterKey } from './clusterKey';
import { ConfigDistributor, type DistributorLog, type LocalConfig } from './configDistributor';
import { type ConfigMessage, encodeConfigMessage, isConfigMessageType, registerConfigMessages } from './configMessages';
import { type DecodedMessage, MessageCodec, MessageError } from './envelope';
import { installConfig, readLocalConfig } from './localConfig';

export interface ConfigChannelOptions {
  localNodeId: number;
  key: ClusterKey;
  confPath: string;
  /** Multicast in agreed order (Cpg.send). */
  send(data: Buffer): Promise<void>;
  /** Cfg.reloadConfig(). */
  reload(): void;
  log: DistributorLog;
  /** A codec shared with the daemon's other message types; config types are registered on it. */
  codec?: MessageCodec;
  write?: WriteCorosyncConfOptions;
  ackTimeoutMs?: number;
  /** Timers (default setTimeout); injected by tests. */
  setTimer?(ms: number, fn: () => void): () => void;
  isPublisher?(): boolean;
  onInstalled?(config: LocalConfig): void;
}

export class ConfigChannel {
  readonly distributor: ConfigDistributor;
  readonly codec: MessageCodec;

  constructor(private readonly options: ConfigChannelOptions) {
    this.codec = registerConfigMessages(options.codec ?? new MessageCodec(), options.key);
    this.distributor = new ConfigDistributor({
      localNodeId: options.localNodeId,
      send: (msg: ConfigMessage) => options.send(encodeConfigMessage(msg, options.key)),
      readLocal: () => readLocalConfig(options.confPath),
      install: (content, version) => installConfig(options.confPath, content, version, options.write),
      reload: () => options.reload(),
      setTimer: options.setTimer ?? ((ms, fn) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      }),
      log: options.log,
      ackTimeoutMs: options.ackTimeoutMs,
      isPublisher: options.isPublisher,
      onInstalled: options.onInstalled,
    });
  }

  /** The daemon's ConfigPublisher port: the engine's `publishConfig {configVersion}`. */
  publishConfig(effect: { configVersion: bigint }): Promise<void> {
    return this.distributor.publish(effect.configVersion);
  }

  /**
   * A CPG `message` event. Returns the decoded message when it is not a configuration message
   * (for the daemon's other types), undefined when it was consumed here or rejected (logged).
   */
  onCpgMessage(event: { nodeId: number; data: Buffer }): DecodedMessage | undefined {
    let decoded: DecodedMessage;
    try {
      decoded = this.codec.decode(event.data);
    } catch (err) {
      if (!(err instanceof MessageError)) throw err;
      this.options.log.warn({ from: event.nodeId, code: err.code, error: err.message, bytes: event.data.length }, 'cluster message rejected');
      return undefined;
    }
    if (!isConfigMessageType(decoded.type)) return decoded;
    void this.distributor.onMessage(event.nodeId, decoded as ConfigMessage);
    return undefined;
  }

  /** A CPG `confchg` event: current members and joiners. */
  onCpgConfchg(event: { members: readonly { nodeId: number }[]; joined: readonly { nodeId: number }[] }): Promise<void> {
    return this.distributor.onMembership(event.members.map((m) => m.nodeId), event.joined.map((m) => m.nodeId));
  }
}
