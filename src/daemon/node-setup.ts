// What the daemon reads and builds at start, as plain functions: vmmgr.conf (or its defaults),
// the state file (quarantined when unusable), the node's default actions and link monitor, and
// the node id from corosync.conf before corosync answers.
import { networkInterfaces } from 'node:os';
import type { Logger } from 'pino';
import { LinkMonitor } from '../actions/link-monitor';
import { NodeActions } from '../actions/node-actions';
import { type StateFile, StateFileError } from '../actions/state-file';
import type { ConfigError } from '../config/config-error';
import type { CorosyncConfView } from '../config/corosync-conf-view';
import { defaultVmmgrConf, readVmmgrConf, type VmmgrConf } from '../config/vmmgr-conf';
import type { PersistedState } from '../engine/types';
import { errorText } from './corosync-session';
import type { DaemonActions } from './ports';

/** Warnings do not stop the daemon, but the operator should see them (as `config show` does). */
export function logConfigWarnings(logger: Logger, event: string, warnings: readonly ConfigError[]): void {
  for (const w of warnings) logger.warn({ event, file: w.file, line: w.line, field: w.field }, `warning: ${w.message}`);
}

/** vmmgr.conf; a missing file means no cluster IP and the default commands (said once). */
export async function readVmmgrOrDefaults(file: string, logger: Logger): Promise<VmmgrConf> {
  try {
    const conf = await readVmmgrConf(file);
    logConfigWarnings(logger, 'vmmgr-conf', conf.warnings);
    return conf;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    logger.warn({ event: 'vmmgr-conf', file }, `${file} does not exist: no cluster IP, default commands`);
    return defaultVmmgrConf();
  }
}

/** The node's actions as vmmgr.conf configures them. */
export function defaultNodeActions(v: VmmgrConf, lockDir: string | undefined, logger: Logger): DaemonActions {
  return new NodeActions({
    lockDir,
    clusterIp: v.cloudIp === undefined ? undefined : { ip: v.cloudIp, prefixLength: v.cloudMask, dev: v.cloudIpDev },
    commands: {
      serviceStart: v.serviceStartCommand,
      serviceStop: v.serviceStopCommand,
      vmSuspend: v.vmSuspendCommand,
      vmResume: v.vmResumeCommand,
      nodeFailed: v.nodeFailedCommand,
    },
    onAnnounceFailed: (err) => logger.warn({ event: 'arp-announce', error: errorText(err) }, 'a gratuitous ARP for the cluster IP failed; the next addClusterIp announces again'),
  });
}

/** Carrier tracking of the cluster IP's device, when there is a cluster IP and NodeActions run it. */
export function defaultLinkMonitor(v: VmmgrConf, customActions: boolean): LinkMonitor | undefined {
  return !customActions && v.cloudIp !== undefined ? new LinkMonitor(v.cloudIpDev) : undefined;
}

/** Before corosync answers once: our node id is the configured node with a local address. */
export function localNodeIdFromConf(conf: CorosyncConfView | undefined): number | undefined {
  const local = new Set(Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((a) => a.address)));
  return conf?.nodes.find((n) => n.nodeid !== undefined && Object.values(n.ringAddrs).some((a) => local.has(a)))?.nodeid;
}

/** The previous run's state; an unusable file is moved aside (logged) and the daemon starts with no history. */
export async function loadPersistedState(stateFile: StateFile<PersistedState>, logger: Logger): Promise<PersistedState | null> {
  try {
    return (await stateFile.load()) ?? null;
  } catch (err) {
    if (!(err instanceof StateFileError)) throw err;
    const aside = await stateFile.quarantine();
    logger.error({ event: 'state-file', error: err.message, movedTo: aside }, 'state file unusable: moved aside, starting with no history');
    return null;
  }
}
