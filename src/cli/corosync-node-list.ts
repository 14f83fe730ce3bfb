// `-l` without a daemon: the same NodeListReport straight from corosync (the quorum service's
// current state, cmap's members' config versions) and corosync.conf, naming the master with
// the engine's election function, so the table agrees with what the daemons decide.
import { readCorosyncConf } from '../config/corosync-conf-file';
import { Cfg } from '../corosync/cfg';
import { Cmap } from '../corosync/cmap';
import { Quorum } from '../corosync/quorum';
import { readMemberVersions } from '../daemon/corosync-port';
import { buildNodeListReport, clusterViewOf, engineVersion } from '../daemon/node-report';
import type { NodeListReport } from '../daemon/report';
import { nameMaster } from '../engine/election';
import { CliError } from './io';
import { EXIT } from './options';

export interface CorosyncSnapshot {
  localNodeId: number;
  quorate: boolean;
  members: number[];
  /** runtime.members.ID.config_version of the members. */
  versions: Record<number, number>;
}

export type SnapshotSource = (timeoutMs: number) => Promise<CorosyncSnapshot>;

/** Reads the current state through the binding (loads the addon). */
export async function readCorosyncSnapshot(timeoutMs: number): Promise<CorosyncSnapshot> {
  const handles: Array<{ close(): void }> = [];
  try {
    const cfg = new Cfg();
    handles.push(cfg);
    const cmap = new Cmap();
    handles.push(cmap);
    const localNodeId = cfg.localNodeId();
    const quorum = new Quorum();
    handles.push(quorum);
    // The quorum service delivers its current state as the first event.
    const q = await new Promise<{ quorate: boolean; members: number[] }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`corosync's quorum service did not answer within ${timeoutMs} ms`)), timeoutMs);
      quorum.once('quorum', (e) => {
        clearTimeout(timer);
        resolve(e);
      });
      quorum.once('disconnect', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    return { localNodeId, quorate: q.quorate, members: q.members, versions: readMemberVersions(cmap, q.members) };
  } finally {
    for (const h of handles) h.close();
  }
}

export async function readNodeListFromCorosync(corosyncConf: string, socket: string, timeoutMs = 3000, source: SnapshotSource = readCorosyncSnapshot): Promise<NodeListReport> {
  const noDaemon = `no corolistener daemon answers on ${socket}`;
  let conf;
  try {
    conf = (await readCorosyncConf(corosyncConf)).view;
    engineVersion(conf.configVersion, corosyncConf);
  } catch (err) {
    throw new CliError(`${noDaemon}, and ${corosyncConf} cannot be used: ${(err as Error).message}`, EXIT.FAILURE);
  }
  let snap: CorosyncSnapshot;
  try {
    snap = await source(timeoutMs);
  } catch (err) {
    throw new CliError(`${noDaemon}, and corosync cannot be read: ${(err as Error).message}`, EXIT.UNREACHABLE);
  }
  const view = clusterViewOf(conf, 0);
  // The engine's own rule: our version is our file's, a stale node or an unknown version names nobody.
  const masterId = snap.quorate ? nameMaster(view, snap.localNodeId, snap.members, snap.versions).masterId : null;
  return buildNodeListReport({ conf, localNodeId: snap.localNodeId, quorum: snap, masterId });
}
