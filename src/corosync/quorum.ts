// Quorum (quorum model v1): the current state first, then every change.
import { loadAddon } from './bindings';
import type { NativeQuorum, NativeQuorumClass, NativeQuorumEvents, NodelistEvent, QuorumEvent } from './bindings';
import { CorosyncHandle } from './handle';
import type { DisconnectEvent } from './handle';

export interface QuorumEvents extends DisconnectEvent {
  quorum: QuorumEvent;
  nodelist: NodelistEvent;
}

export class Quorum extends CorosyncHandle<NativeQuorum, NativeQuorumEvents, QuorumEvents> {
  constructor(native: NativeQuorumClass = loadAddon().Quorum) {
    super((emit) => new native(emit));
  }

  quorate(): boolean {
    return this.call('quorum_getquorate', (native) => native.quorate());
  }
}
