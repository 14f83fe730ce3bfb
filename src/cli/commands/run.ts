// `corolistener run`: the daemon in the foreground (systemd runs it). Starts a Corolistener
// with the real corosync binding, NodeActions and the pino log file; SIGTERM/SIGINT stop it
// cleanly, leaving the role's effects as they are (a stopped listener must not cause a
// failover); SIGHUP reopens the log. Without corosync it says so in one line on stderr
// (./run-notices.ts). The addon is only loaded when corosync is connected, so
// `run --help` and the other commands work without it.
import { Corolistener } from '../../daemon/corolistener';
import { createLogger, reopenOnSighup } from '../../daemon/logger';
import { CliError, type CliIo } from '../io';
import { RunNotices } from '../run-notices';
import { EXIT } from '../options';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'run'>, io: CliIo): Promise<number> {
  const o = command.options;
  // The terminal (journal under systemd) hears of corosync being unreachable once, not the log's every retry.
  const notices = new RunNotices((line) => io.stderr.write(`${line}\n`), o.log);
  const log = createLogger({ file: o.log, onLine: (fields) => notices.onLine(fields) });
  const stopReopening = reopenOnSighup(log);
  const daemon = new Corolistener({
    // The configuration publisher: Corolistener's default, keyed from --key (config-publisher.ts).
    keyFile: o.keyFile,
    corosyncConf: o.corosyncConf,
    vmmgrConf: o.vmmgrConf,
    stateDir: o.stateDir,
    lockDir: o.lockDir,
    socket: o.socket,
    logger: log.logger,
    ...(command.metrics === undefined ? {} : { metrics: command.metrics }),
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
