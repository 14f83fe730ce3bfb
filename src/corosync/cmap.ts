// Cmap: corosync's key/value store, typed values, prefix tracking.
import { loadAddon } from './bindings';
import type { CmapTrackEvent, CmapValue, NativeCmap, NativeCmapClass, NativeCmapEvents } from './bindings';
import { CorosyncHandle } from './handle';
import type { DisconnectEvent } from './handle';

export type CmapEvents = DisconnectEvent;
export type CmapTrackListener = (event: CmapTrackEvent) => void;

export class Cmap extends CorosyncHandle<NativeCmap, NativeCmapEvents, CmapEvents> {
  readonly #listeners = new Map<number, CmapTrackListener>();

  constructor(native: NativeCmapClass = loadAddon().Cmap) {
    super((emit) => new native(emit));
  }

  /** The value of `key`, or undefined if it does not exist. */
  get(key: string): CmapValue | undefined {
    return this.call('cmap_get', (native) => native.get(key));
  }

  /** Every key starting with `prefix` ('' for all), in cmap's sorted order. */
  entries(prefix: string): Map<string, CmapValue> {
    return new Map(this.call('cmap_iter', (native) => native.entries(prefix)));
  }

  /**
   * Calls `listener` on every add/change/delete of a key starting with `prefix`.
   * Returns a function that stops tracking (idempotent).
   */
  track(prefix: string, listener: CmapTrackListener): () => void {
    const trackId = this.call('cmap_track_add', (native) => native.trackAdd(prefix));
    this.#listeners.set(trackId, listener);
    return () => {
      if (!this.#listeners.delete(trackId) || !this.isOpen) return;
      this.call('cmap_track_delete', (native) => native.trackDelete(trackId));
    };
  }

  protected override onNativeEvent<K extends keyof NativeCmapEvents>(event: K, payload: NativeCmapEvents[K]): void {
    if (event !== 'track') {
      super.onNativeEvent(event, payload);
      return;
    }
    const { trackId, ...change } = payload as NativeCmapEvents['track'];
    this.#listeners.get(trackId)?.(change);
  }

  protected override onClosed(): void {
    this.#listeners.clear();
  }
}
