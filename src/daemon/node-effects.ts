// What each effect does on a real node: the daemon's EffectHandlers for the interpreter. The
// work itself is in src/actions (NodeActions: ip, arping, locks, the configured commands) and
// src/config (the corosync.conf edit); here each effect is mapped onto it, with the markers and
// files the daemon keeps (the service marker, the state file) and the corosync session.
import type { Logger } from 'pino';
import type { CommandContext, ContextRole } from '../actions/command-context';
import type { StateFile } from '../actions/state-file';
import { parseVirshNames } from '../actions/vm-control';
import { encodeMessage } from '../cluster/envelope';
import { FAILURE_RECORDS } from '../cluster/messages';
import type { ConfigPublisher } from '../cluster/publisher-port';
import { editCorosyncConf } from '../config/corosync-conf-file';
import { writeRaisedPriority } from '../config/corosync-conf-edit';
import { applyOperatorEdits } from '../config/operator-edits';
import type { PersistedState } from '../engine/types';
import type { EffectHandlers } from './interpreter';
import type { OperatorDesk } from './operator-desk';
import type { DaemonActions } from './ports';
import type { ServiceMarker } from './service-marker';

export interface NodeEffectsDeps {
  actions: DaemonActions;
  logger: Logger;
  corosyncConf: string;
  corosyncCheck?: 'auto' | 'required' | 'off';
  stateFile: StateFile<PersistedState>;
  serviceMarker: ServiceMarker;
  publisher: () => ConfigPublisher;
  /** The environment of the configured commands, for this node's role now. */
  context(role: ContextRole | 'current', failedNodes?: readonly number[]): CommandContext;
  localNodeId(): number;
  now(): number;
  /** Sends on the CPG group and waits for it to come back (CorosyncConnection.broadcast). */
  broadcast(data: Buffer): Promise<void>;
  /** corosync-cfgtool -R on the open session; throws when not connected. */
  reloadCorosync(): void;
  /** Re-reads corosync.conf and feeds it to the engine. */
  rereadConfig(why: string): Promise<void>;
  nodesFailed(nodeIds: number[], atTakeover: boolean): void;
  vmsDiscarded(vms: string[]): void;
  /** Operator commands and the hand-over's messages (operator-desk.ts). */
  desk: OperatorDesk;
}

export function nodeEffects(d: NodeEffectsDeps): EffectHandlers {
  const a = d.actions;
  return {
    addClusterIp: (_e, signal) => a.addClusterIp(signal),
    removeClusterIp: (_e, signal) => a.removeClusterIp(signal),
    removeClusterIpNow: async () => {
      const started = performance.now();
      await a.removeClusterIp();
      d.logger.info({ event: 'link-ip-removed', durationMs: Math.round((performance.now() - started) * 10) / 10 }, 'cluster IP removed: no carrier');
    },
    createServiceLock: () => a.createServiceLock(),
    removeServiceLock: () => a.removeServiceLock(),
    removeRelocatedLock: async () => {
      // Only a fresh takeover removes it: the service must then be started, whatever ran before.
      await d.serviceMarker.clear();
      await a.removeStaleRelocatedLock();
    },
    startService: async (e, signal) => {
      if (await d.serviceMarker.isStarted()) {
        d.logger.info({ event: 'start-service-skipped', failedNodes: e.failedNodes }, 'VMmanager was already started by this daemon in this boot: not started again');
        return;
      }
      await a.startService(d.context('master', e.failedNodes), signal);
      await d.serviceMarker.markStarted(new Date(d.now()));
      // The takeover's failed nodes reach VMmanager through the start command's environment only
      // (no NodeFailedCommand: it would restore them twice); an in-process agent hears of them here.
      if (e.failedNodes.length > 0) d.nodesFailed([...e.failedNodes], true);
    },
    stopService: async (_e, signal) => {
      // Cleared first: if stopping fails, a later takeover must start the service again.
      await d.serviceMarker.clear();
      await a.stopService(d.context('current'), signal);
    },
    suspendVms: async (_e, signal) => {
      // The result (the VMs suspended) goes back to the engine; a VmCommandError tells those it
      // did suspend before failing (`done`), see resultEvent in src/engine/effect-traits.ts.
      const result = await a.suspendVms(d.context('suspended'), { signal });
      // A configured VmSuspendCommand reports the VMs it suspended one per line on stdout.
      return result.via === 'virsh' ? [...result.suspended] : parseVirshNames(result.result.stdout);
    },
    resumeVms: (e, signal) => a.resumeVms(e.vms, d.context('current'), { signal }),
    reportVmsDiscarded: async (e) => {
      d.logger.warn({ event: 'vms-discarded', vms: e.vms }, `suspended VMs were restored elsewhere meanwhile; not resuming ${e.vms.join(', ')}`);
      d.vmsDiscarded([...e.vms]);
    },
    reportNodesFailed: async (e, signal) => {
      await a.nodeFailed(d.context('current', e.nodeIds), signal);
      d.nodesFailed([...e.nodeIds], false);
    },
    raisePriority: async (e) => {
      // The engine's prio and config_version, written as decided (docs/config-update.md).
      const edit = () => editCorosyncConf(d.corosyncConf, (doc) => writeRaisedPriority(doc, e.nodeId, e.prio, BigInt(e.configVersion)).doc, { corosyncCheck: d.corosyncCheck });
      const publisher = d.publisher();
      const result = await (publisher.withConfigLock ? publisher.withConfigLock(edit) : edit());
      d.logger.info(
        { event: 'raise-priority', nodeId: e.nodeId, prio: e.prio, configVersion: e.configVersion, changed: result.changed },
        result.changed ? `corosync.conf: prio ${e.prio}, config_version ${e.configVersion}` : `corosync.conf already has it (config_version ${e.configVersion} or later, prio ${e.prio})`,
      );
      // Reload everywhere (also when an earlier attempt already wrote the file): every member's
      // cmap then shows our newer version, so no member with the old file can act as master,
      // even before the other nodes have fetched the new file (publishConfig).
      d.reloadCorosync();
      // The engine trusts our file before corosync's reload shows it in cmap.
      await d.rereadConfig('raisePriority');
    },
    publishConfig: (e) => d.publisher().publish({ configVersion: e.configVersion, corosyncConf: d.corosyncConf, localNodeId: d.localNodeId() }),
    broadcastFailureRecords: (e) => {
      const { type: _type, ...body } = e;
      return d.broadcast(encodeMessage(FAILURE_RECORDS, body));
    },
    readConfig: () => d.rereadConfig('newer-version-seen'),
    announceRelease: () => d.desk.announceRelease(),
    announceTakeover: (e) => d.desk.announceTakeover(e),
    commandResult: async (e) => d.desk.commandResult(e),
    editConfig: async (e) => {
      // An operator's edit, as the engine decided it (edits and config_version), written like a raise.
      const edit = () => editCorosyncConf(d.corosyncConf, (doc) => applyOperatorEdits(doc, e.edits, e.configVersion), { corosyncCheck: d.corosyncCheck });
      const publisher = d.publisher();
      try {
        await (publisher.withConfigLock ? publisher.withConfigLock(edit) : edit());
      } catch (err) {
        d.desk.editDone(e, err);
        throw Object.assign(err instanceof Error ? err : new Error(String(err)), { retryable: false });
      }
      d.logger.info({ event: 'operator-edit', configVersion: e.configVersion, edits: e.edits }, `corosync.conf: ${e.summary}`);
      try {
        d.reloadCorosync();
      } catch (err) {
        d.logger.warn({ event: 'operator-edit', error: String(err) }, 'corosync.conf written, but corosync could not be asked to reload it');
      }
      await d.rereadConfig('operator-edit');
      d.desk.editDone(e);
    },
    persistState: (e) => d.stateFile.save(e.state),
  };
}
