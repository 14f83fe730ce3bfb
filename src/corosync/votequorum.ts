// Votequorum: votes and quorum arithmetic of a node.
import { loadAddon } from './bindings';
import type { NativeVotequorum, NativeVotequorumClass, NativeVotequorumEvents } from './bindings';
import { CorosyncHandle } from './handle';
import type { DisconnectEvent } from './handle';

export type VotequorumEvents = DisconnectEvent;

/** VOTEQUORUM_INFO_* bits of votequorum.h. */
const FLAG = {
  twoNode: 1,
  quorate: 2,
  waitForAll: 4,
  lastManStanding: 8,
  autoTieBreaker: 16,
  allowDownscale: 32,
  qdeviceRegistered: 64,
} as const;

export interface VotequorumInfo {
  nodeId: number;
  /** 1 member, 2 dead, 3 leaving (VOTEQUORUM_NODESTATE_*). */
  nodeState: number;
  nodeVotes: number;
  /** Expected votes as this node sees them (corosync-quorumtool's "Expected votes"). */
  expectedVotes: number;
  highestExpected: number;
  totalVotes: number;
  /** Votes needed for quorum. */
  quorum: number;
  quorate: boolean;
  twoNode: boolean;
  waitForAll: boolean;
  lastManStanding: boolean;
  autoTieBreaker: boolean;
  allowDownscale: boolean;
  qdeviceRegistered: boolean;
  qdeviceVotes: number;
  qdeviceName: string;
}

export class Votequorum extends CorosyncHandle<NativeVotequorum, NativeVotequorumEvents, VotequorumEvents> {
  constructor(native: NativeVotequorumClass = loadAddon().Votequorum) {
    super((emit) => new native(emit));
  }

  /** Information about `nodeId`, or about the local node when omitted (votequorum's node id 0). */
  info(nodeId = 0): VotequorumInfo {
    const raw = this.call('votequorum_getinfo', (native) => native.info(nodeId));
    const has = (bit: number): boolean => (raw.flags & bit) !== 0;
    return {
      nodeId: raw.nodeId,
      nodeState: raw.nodeState,
      nodeVotes: raw.nodeVotes,
      expectedVotes: raw.nodeExpectedVotes,
      highestExpected: raw.highestExpected,
      totalVotes: raw.totalVotes,
      quorum: raw.quorum,
      quorate: has(FLAG.quorate),
      twoNode: has(FLAG.twoNode),
      waitForAll: has(FLAG.waitForAll),
      lastManStanding: has(FLAG.lastManStanding),
      autoTieBreaker: has(FLAG.autoTieBreaker),
      allowDownscale: has(FLAG.allowDownscale),
      qdeviceRegistered: has(FLAG.qdeviceRegistered),
      qdeviceVotes: raw.qdeviceVotes,
      qdeviceName: raw.qdeviceName,
    };
  }
}
