// The only module that loads the compiled addon. It also types the whole native surface in one
// place: the TS wrappers take these classes as constructor arguments, so unit tests inject fakes.
import bindings from 'bindings';
import { CorosyncError } from './errors';

// ---- event payloads (shared by the native layer and the public API) ----

export interface RingId {
  nodeId: number;
  seq: number;
}

export interface QuorumEvent {
  quorate: boolean;
  ringId: RingId;
  /** Node ids of the current membership. */
  members: number[];
}

export interface NodelistEvent {
  ringId: RingId;
  members: number[];
  joined: number[];
  left: number[];
}

/** A CPG group member; `reason` is a cpg_reason_t (1 join, 2 leave, 3 nodedown, 4 nodeup, 5 procdown). */
export interface CpgAddress {
  nodeId: number;
  pid: number;
  reason: number;
}

export interface CpgConfchgEvent {
  members: CpgAddress[];
  joined: CpgAddress[];
  left: CpgAddress[];
}

export interface CpgMessageEvent {
  nodeId: number;
  pid: number;
  data: Buffer;
}

export interface CpgTotemEvent {
  ringId: RingId;
  members: number[];
}

/** numbers for integers up to 32 bits and floats, bigint for 64-bit integers, Buffer for binary. */
export type CmapValue = number | bigint | string | Buffer;

export interface CmapTrackEvent {
  event: 'add' | 'change' | 'delete';
  key: string;
  /** The new value (undefined on delete). */
  value: CmapValue | undefined;
  /** The previous value (undefined on add). */
  oldValue: CmapValue | undefined;
}

/** votequorum_getinfo, with JS names. */
export interface NativeVotequorumInfo {
  nodeId: number;
  nodeState: number;
  nodeVotes: number;
  nodeExpectedVotes: number;
  highestExpected: number;
  totalVotes: number;
  quorum: number;
  /** VOTEQUORUM_INFO_* bits. */
  flags: number;
  qdeviceVotes: number;
  qdeviceName: string;
}

// ---- the native classes ----

/** The callback every native handle reports through: (event name, payload). */
export type NativeEmit<Events> = <K extends keyof Events & string>(event: K, payload: Events[K]) => void;

interface Disconnect {
  /** Polling stopped and the handle is finalized; emitted at most once. */
  disconnect: CorosyncError;
}

export interface NativeHandle {
  /** Idempotent: stop polling the fd, then finalize. */
  close(): void;
  ref(): void;
  unref(): void;
}

export type NativeQuorumEvents = Disconnect & { quorum: QuorumEvent; nodelist: NodelistEvent };
export interface NativeQuorum extends NativeHandle {
  quorate(): boolean;
}
export type NativeQuorumClass = new (emit: NativeEmit<NativeQuorumEvents>) => NativeQuorum;

export type NativeCpgEvents = Disconnect & {
  confchg: CpgConfchgEvent;
  message: CpgMessageEvent;
  totem: CpgTotemEvent;
};
export interface NativeCpg extends NativeHandle {
  join(): void;
  leave(): void;
  /** Agreed order; throws CS_ERR_TRY_AGAIN under flow control. */
  mcast(data: Buffer): void;
  members(): CpgAddress[];
  localNodeId(): number;
}
export type NativeCpgClass = new (groupName: string, emit: NativeEmit<NativeCpgEvents>) => NativeCpg;

export type NativeCmapEvents = Disconnect & { track: CmapTrackEvent & { trackId: number } };
export interface NativeCmap extends NativeHandle {
  /** undefined if the key does not exist. */
  get(key: string): CmapValue | undefined;
  entries(prefix: string): Array<[string, CmapValue]>;
  /** Tracks add/change/delete of every key starting with prefix; returns a track id. */
  trackAdd(prefix: string): number;
  trackDelete(trackId: number): void;
}
export type NativeCmapClass = new (emit: NativeEmit<NativeCmapEvents>) => NativeCmap;

export type NativeCfgEvents = Disconnect;
export interface NativeCfg extends NativeHandle {
  localNodeId(): number;
  reloadConfig(): void;
}
export type NativeCfgClass = new (emit: NativeEmit<NativeCfgEvents>) => NativeCfg;

export type NativeVotequorumEvents = Disconnect;
export interface NativeVotequorum extends NativeHandle {
  info(nodeId: number): NativeVotequorumInfo;
}
export type NativeVotequorumClass = new (emit: NativeEmit<NativeVotequorumEvents>) => NativeVotequorum;

// ---- the cluster IP's network calls (native/net.cc, native/arp.cc; used by src/actions/native-net.ts)

/** An IPv4 address of a device, from an RTM_GETADDR dump. */
export interface NativeAddress {
  family: 'inet';
  local: string;
  prefixlen: number;
  /** The device's name, or `dev:x` for an alias label. */
  label: string;
}

export interface NativeDeviceAddresses {
  ifindex: number;
  /** Lowercase, colon-separated. */
  mac: string;
  addresses: NativeAddress[];
}

/**
 * A failed network call: `code` is the errno name ('EEXIST', 'ENODEV', ...), `errno` its
 * (positive) number, `operation` what failed ('RTM_NEWADDR vmbr0', 'send ARP probe on vmbr0').
 */
export interface NativeNetError extends Error {
  code: string;
  errno: number;
  operation: string;
}

export interface NativeNet {
  /** undefined when there is no such device. */
  addresses(dev: string): NativeDeviceAddresses | undefined;
  /** The device's flags from rtnetlink (IFF_UP, IFF_RUNNING, IFF_LOWER_UP, ...); undefined when there is no such device. */
  linkFlags(dev: string): number | undefined;
  /** RTM_NEWADDR (create, exclusive: EEXIST when present), returns once the kernel acknowledged it. */
  addAddress(dev: string, ip: string, prefixLength: number): void;
  /** RTM_DELADDR (EADDRNOTAVAIL when absent), returns once the kernel acknowledged it. */
  deleteAddress(dev: string, ip: string, prefixLength: number): void;
  /** One gratuitous ARP: 'request' as `arping -U`, 'reply' as `arping -A`. */
  announce(dev: string, ip: string, mode: 'request' | 'reply'): void;
  /** Idempotent. */
  close(): void;
}
export type NativeNetClass = new () => NativeNet;

export interface NativeArpProbe {
  /** Stops listening; `done` is not called. Idempotent. */
  cancel(): void;
}
/**
 * Sends an RFC 5227 probe for `ip` on `dev` (throws when it cannot: no device, link down) and
 * listens `windowMs` after it left; `done(null, macs, answeredAfterMs)` with the hosts that claimed
 * the address (empty: nobody), at the window's end or at once on a claim; `done(error)` if
 * listening failed. answeredAfterMs: from the send to the kernel's receive timestamp of the first
 * claim (the holder's answer time without our scheduling delay), when there was one.
 */
export type NativeArpProbeClass = new (dev: string, ip: string, windowMs: number, done: (error: NativeNetError | null, holders?: string[], answeredAfterMs?: number) => void) => NativeArpProbe;

export interface Addon {
  setErrorClass(ctor: typeof CorosyncError): void;
  Quorum: NativeQuorumClass;
  Cpg: NativeCpgClass;
  Cmap: NativeCmapClass;
  Cfg: NativeCfgClass;
  Votequorum: NativeVotequorumClass;
  Net: NativeNetClass;
  ArpProbe: NativeArpProbeClass;
  /**
   * Maps every page of this process's libqb IPC rings now (native/ipc_rings.h: corosync holds
   * them resident anyway; populated, our RSS does not creep up as messages first touch them).
   */
  populateIpcRings(): { mappings: number; kib: number };
}

let addon: Addon | undefined;

/** Loads the addon on first use, so code that injects fakes never needs the compiled module. */
export function loadAddon(): Addon {
  if (addon === undefined) {
    const loaded = bindings('corolistener') as Addon;
    loaded.setErrorClass(CorosyncError);
    addon = loaded;
  }
  return addon;
}
