// `corolistener run`: the daemon in the foreground (systemd runs it). Starts a Corolistener
// with the real corosync binding, NodeActions and the pino log file; SIGTERM/SIGINT stop it
// cleanly, leaving the role's effects as they are (a stopped listener must not cause a
// failover); SIGHUP reopens the log. The addon is only loaded when corosync is connected, so
// `run --help` and the other commands work without it.
import { ClusterKey } from '../../cluster/clusterKey';
import { ClusterConfigPublisher } from '../../cluster/configPublisher';
import { Corolistener } from '../../daemon/corolistener';
import { createLogger, reopenOnSighup } from '../../daemon/logger';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'run'>, io: CliIo): Promise<number> {
  void io;
  const o = command.options;
  const log = createLogger({ file: o.log });
  const stopReopening = reopenOnSighup(log);
  // Without the cluster key the daemon still runs (a failover must not depend on it), but a
  // raised priority stays local and no starting node can sync from here: said loudly.
  const configPublisher = await ClusterKey.fromFile(o.keyFile).then(
    (key) => new ClusterConfigPublisher({ key, confPath: o.corosyncConf, log: log.logger }),
    (err: Error) => {
      log.logger.error({ event: 'cluster-key', error: err.message }, 'no cluster key: configuration distribution and the config sync service are off (give --key FILE)');
      return undefined;
    },
  );
  const daemon = new Corolistener({
    configPublisher,
    corosyncConf: o.corosyncConf,
    vmmgrConf: o.vmmgrConf,
    stateDir: o.stateDir,
    lockDir: o.lockDir,
    socket: o.socket,
    logger: log.logger,
  });
  try {
    await daemon.start();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log.logger.fatal({ event: 'start-failed', error: message }, 'corolistener could not start');
    await daemon.stop().catch(() => undefined);
    stopReopening();
    log.close();
    throw new CliError(`cannot start the daemon: ${message}`, EXIT.FAILURE);
  }
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  log.logger.info({ event: 'signal', signal }, `${signal}: shutting down`);
  await daemon.stop();
  stopReopening();
  log.close();
  return EXIT.OK;
}
