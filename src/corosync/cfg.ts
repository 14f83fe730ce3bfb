// Cfg: local node id and `corosync-cfgtool -R` (reload corosync.conf on every node).
import { loadAddon } from './bindings';
import type { NativeCfg, NativeCfgClass, NativeCfgEvents } from './bindings';
import { CorosyncHandle } from './handle';
import type { DisconnectEvent } from './handle';

export type CfgEvents = DisconnectEvent;

export class Cfg extends CorosyncHandle<NativeCfg, NativeCfgEvents, CfgEvents> {
  constructor(native: NativeCfgClass = loadAddon().Cfg) {
    super((emit) => new native(emit));
  }

  localNodeId(): number {
    return this.call('corosync_cfg_local_get', (native) => native.localNodeId());
  }

  /** Makes corosync re-read its configuration file, cluster-wide. */
  reloadConfig(): void {
    this.call('corosync_cfg_reload_config', (native) => native.reloadConfig());
  }
}
