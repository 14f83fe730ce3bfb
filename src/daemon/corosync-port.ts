// The daemon's view of corosync, behind a small port so unit tests drive the daemon with a
// fake: one session = one set of handles (quorum, CPG group `corolistener`, cmap). The real
// implementation opens the binding's handles; the addon is loaded only when connect() runs.
import { Cfg } from '../corosync/cfg';
import { Cmap } from '../corosync/cmap';
import { Cpg } from '../corosync/cpg';
import { Quorum } from '../corosync/quorum';
import { Votequorum } from '../corosync/votequorum';
import { loadAddon, type CmapValue, type QuorumEvent } from '../corosync/bindings';
import { CPG_GROUP } from '../cluster/messages';

export interface CorosyncHandlers {
  /** Quorum state (the current one first, then every change). */
  onQuorum(event: QuorumEvent): void;
  /** A message delivered in agreed order on the CPG group; `own` = sent by this process. */
  onMessage(message: { nodeId: number; own: boolean; data: Buffer }): void;
  /** `totem.config_version` or a `nodelist.` key changed in cmap (corosync reloaded its config). */
  onConfigChanged(): void;
  /** A member's `runtime.members.ID.config_version` appeared or changed. */
  onMemberVersions(versions: Record<number, number>): void;
  /** corosync went away (any handle); the session is unusable and must be closed. */
  onDisconnect(error: Error): void;
  /** CPG group membership (confchg): node ids of the members and of those that joined. */
  onGroupMembership?(event: { members: number[]; joined: number[] }): void;
}

export interface CorosyncSession {
  readonly localNodeId: number;
  /** cmap `runtime.members.ID.config_version` of the given members (those cmap knows). */
  configVersions(members: readonly number[]): Record<number, number>;
  /** Sends on the CPG group (agreed order; delivered back to this process too). */
  send(data: Buffer): Promise<void>;
  /**
   * corosync-cfgtool -R: every member's corosync re-reads its own corosync.conf, and cmap's
   * runtime.members.ID.config_version shows each member's version everywhere.
   */
  reloadConfig(): void;
  /**
   * How long corosync takes at most to declare a silent member gone: the runtime token timeout
   * plus consensus (cmap runtime.config.totem.*), ms; undefined when unknown.
   */
  failureDetectionMs?(): number | undefined;
  /** A cheap round trip to corosync (the watchdog feed waits for it); throws when it fails. */
  ping?(): void;
  /** Votequorum's flags now: two_node, and whether a qdevice is registered (self-fencing's two-node rule). */
  quorumFlags?(): { twoNode: boolean; qdeviceRegistered: boolean };
  /**
   * What connecting populated of libqb's IPC rings (native/ipc_rings.h), for the log; an Error
   * when that failed (nothing else depends on it).
   */
  readonly ipcRings?: { mappings: number; kib: number } | Error;
  /** Idempotent. */
  close(): void;
}

export interface CorosyncPort {
  /** Opens a session; throws (e.g. CorosyncError CS_ERR_LIBRARY) while corosync is not running. */
  connect(handlers: CorosyncHandlers): CorosyncSession;
}

const MEMBER_VERSION_KEY = /^runtime\.members\.([0-9]+)\.config_version$/;

export function cmapInteger(value: CmapValue | undefined): number | undefined {
  if (typeof value === 'bigint') return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  return undefined;
}

/** runtime.members.ID.config_version of `members` from a cmap handle. */
export function readMemberVersions(cmap: Cmap, members: readonly number[]): Record<number, number> {
  const versions: Record<number, number> = {};
  for (const id of members) {
    const v = cmapInteger(cmap.get(`runtime.members.${id}.config_version`));
    if (v !== undefined) versions[id] = v;
  }
  return versions;
}

/**
 * cmap reports members' config versions one key at a time: after a takeover's reload, one
 * notification per member (twice), each a decision of its own on every listener. These handlers
 * merge the versions reported in a row into one onMemberVersions (a later value of a node wins, as
 * it would have one decision later), delivered at the end of the loop turn or right before any
 * other event, so nothing else is reordered around them: the engine sees what it would have
 * seen had cmap reported them in one notification.
 */
export function mergeMemberVersions(handlers: CorosyncHandlers, defer: (flush: () => void) => void = (f) => setImmediate(f)): CorosyncHandlers {
  let pending: Record<number, number> | undefined;
  const flush = (): void => {
    if (pending === undefined) return;
    const versions = pending;
    pending = undefined;
    handlers.onMemberVersions(versions);
  };
  const after =
    <A extends unknown[]>(fn: (...args: A) => void) =>
    (...args: A): void => {
      flush();
      fn(...args);
    };
  return {
    onQuorum: after((e) => handlers.onQuorum(e)),
    onMessage: after((m) => handlers.onMessage(m)),
    onConfigChanged: after(() => handlers.onConfigChanged()),
    onDisconnect: after((err) => handlers.onDisconnect(err)),
    onGroupMembership: after((e) => handlers.onGroupMembership?.(e)),
    onMemberVersions: (versions) => {
      if (pending === undefined) {
        pending = {};
        defer(flush);
      }
      Object.assign(pending, versions);
    },
  };
}

/** The real corosync, through the binding. */
export class NativeCorosyncPort implements CorosyncPort {
  connect(given: CorosyncHandlers): CorosyncSession {
    const handlers = mergeMemberVersions(given);
    const opened: Array<{ close(): void }> = [];
    try {
      const cmap = new Cmap();
      opened.push(cmap);
      const cpg = new Cpg(CPG_GROUP);
      opened.push(cpg);
      const cfg = new Cfg();
      opened.push(cfg);
      const localNodeId = cpg.localNodeId();
      let disconnected = false;
      const onDisconnect = (err: Error): void => {
        if (disconnected) return;
        disconnected = true;
        handlers.onDisconnect(err);
      };
      cmap.on('disconnect', onDisconnect);
      cfg.on('disconnect', onDisconnect);
      cpg.on('disconnect', onDisconnect);
      // One entry per process in the group: a node counts once.
      const nodeIds = (list: readonly { nodeId: number }[]) => [...new Set(list.map((a) => a.nodeId))];
      cpg.on('confchg', (e) => handlers.onGroupMembership?.({ members: nodeIds(e.members), joined: nodeIds(e.joined) }));
      cpg.on('message', ({ nodeId, pid, data }) => handlers.onMessage({ nodeId, own: nodeId === localNodeId && pid === process.pid, data }));
      cmap.track('totem.config_version', () => handlers.onConfigChanged());
      cmap.track('nodelist.', () => handlers.onConfigChanged());
      cmap.track('runtime.members.', ({ key, value }) => {
        const m = MEMBER_VERSION_KEY.exec(key);
        const v = cmapInteger(value);
        if (m && v !== undefined) handlers.onMemberVersions({ [Number(m[1])]: v });
      });
      cpg.join();
      // Last: its first event (the current quorum state) must find everything else ready.
      const quorum = new Quorum();
      opened.push(quorum);
      quorum.on('disconnect', onDisconnect);
      quorum.on('quorum', (e) => handlers.onQuorum(e));
      const votequorum = new Votequorum();
      opened.push(votequorum);
      votequorum.on('disconnect', onDisconnect);
      let ipcRings: { mappings: number; kib: number } | Error;
      try {
        ipcRings = loadAddon().populateIpcRings();
      } catch (err) {
        ipcRings = err instanceof Error ? err : new Error(String(err));
      }
      return {
        localNodeId,
        ipcRings,
        configVersions: (members) => readMemberVersions(cmap, members),
        send: (data) => cpg.send(data),
        reloadConfig: () => cfg.reloadConfig(),
        failureDetectionMs: () => {
          const token = cmapInteger(cmap.get('runtime.config.totem.token'));
          const consensus = cmapInteger(cmap.get('runtime.config.totem.consensus'));
          return token === undefined || consensus === undefined ? undefined : token + consensus;
        },
        ping: () => void cmap.get('runtime.config.totem.token'),
        quorumFlags: () => {
          const info = votequorum.info();
          return { twoNode: info.twoNode, qdeviceRegistered: info.qdeviceRegistered };
        },
        close: () => {
          for (const h of opened) h.close();
        },
      };
    } catch (err) {
      for (const h of opened) h.close();
      throw err;
    }
  }
}
