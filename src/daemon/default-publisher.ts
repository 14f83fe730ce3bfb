// The daemon's default ConfigPublisher, built in one place for `corolistener run` and for
// `new Corolistener()` in a node agent, so the library runs the same daemon as the CLI: the
// master's raised priority and new config_version reach every node over CPG, and starting
// nodes can fetch corosync.conf from this one (src/cluster/config-publisher.ts).
import type { Logger } from 'pino';
import { ClusterKey, DEFAULT_AUTHKEY_FILE } from '../cluster/cluster-key';
import { ClusterConfigPublisher } from '../cluster/config-publisher';
import type { ConfigPublisher } from '../cluster/publisher-port';

export interface DefaultPublisherOptions {
  /** The shared cluster key file (default /etc/corosync/authkey). */
  keyFile?: string;
  corosyncConf: string;
  logger: Logger;
  /** `corosync -t` before installing a peer's corosync.conf (default 'auto'). */
  corosyncCheck?: 'auto' | 'required' | 'off';
}

/**
 * ClusterConfigPublisher keyed from `keyFile`. Without a readable key the daemon still runs (a
 * failover must not depend on it), but a raised priority stays local and no starting node can
 * sync from here: said loudly, once at start and at every publish.
 */
export async function defaultConfigPublisher(o: DefaultPublisherOptions): Promise<ConfigPublisher> {
  const keyFile = o.keyFile ?? DEFAULT_AUTHKEY_FILE;
  try {
    const key = await ClusterKey.fromFile(keyFile);
    return new ClusterConfigPublisher({
      key,
      confPath: o.corosyncConf,
      log: o.logger,
      ...(o.corosyncCheck === undefined ? {} : { write: { corosyncCheck: o.corosyncCheck } }),
    });
  } catch (err) {
    o.logger.error({ event: 'cluster-key', keyFile, error: (err as Error).message }, 'no cluster key: configuration distribution and the config sync service are off (give --key FILE, or keyFile)');
    return localOnlyPublisher(o.logger);
  }
}

/** No distribution: says loudly that the change stayed local (tests, or no cluster key). */
export function localOnlyPublisher(logger: Logger): ConfigPublisher {
  return {
    async publish({ configVersion, corosyncConf }) {
      logger.warn({ event: 'publish-config', configVersion, corosyncConf }, `corosync.conf version ${configVersion} was changed locally only: no configuration publisher is installed`);
    },
  };
}
