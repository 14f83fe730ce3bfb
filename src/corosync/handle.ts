// What every TS handle shares: it owns one native handle, re-emits its events, turns a native
// 'disconnect' into a public 'disconnect' (never a throw from the loop), retries TRY_AGAIN on
// calls, and makes close() idempotent.
import { EventEmitter } from 'node:events';
import type { NativeEmit, NativeHandle } from './bindings';
import { CorosyncError } from './errors';
import { retrySync } from './retry';

/** Public event maps name each event's single payload; EventEmitter wants argument tuples. */
export type EventArgs<E> = { [K in keyof E]: [E[K]] };

export interface DisconnectEvent {
  /** corosync went away (fd hang-up or a dispatch error); the handle is closed. */
  disconnect: CorosyncError;
}

export abstract class CorosyncHandle<N extends NativeHandle, NativeEvents extends DisconnectEvent, PublicEvents extends DisconnectEvent> extends EventEmitter<EventArgs<PublicEvents>> {
  protected readonly native: N;
  #open = true;
  #finalized = false;

  /** `open` creates the native handle (retried while corosync answers CS_ERR_TRY_AGAIN). */
  protected constructor(open: (emit: NativeEmit<NativeEvents>) => N) {
    super();
    this.native = retrySync(() =>
      open((event, payload) => {
        if (event === 'disconnect') this.#open = false;
        this.onNativeEvent(event, payload);
      }),
    );
  }

  /** False after close() or a disconnect. */
  get isOpen(): boolean {
    return this.#open;
  }

  /** Idempotent. Stops watching the fd and finalizes the corosync handle. */
  close(): void {
    const wasOpen = this.#open;
    this.#open = false;
    if (!this.#finalized) {
      this.#finalized = true;
      this.native.close();
    }
    if (wasOpen) this.onClosed(new CorosyncError('CS_ERR_BAD_HANDLE', 'close'));
  }

  /** Keep the event loop alive while this handle is open (the default). */
  ref(): this {
    this.native.ref();
    return this;
  }

  /** Let the process exit even though this handle is open; events still arrive while it runs. */
  unref(): this {
    this.native.unref();
    return this;
  }

  /** Default: re-emit native events under the same name; a disconnect also ends the handle. */
  protected onNativeEvent<K extends keyof NativeEvents & string>(event: K, payload: NativeEvents[K]): void {
    if (event === 'disconnect') {
      this.onClosed(payload as CorosyncError);
      // Finalize on the next loop turn: after a crash libqb sleeps ~40 ms in each finalize, which
      // must not delay the 'disconnect' of the other handles hung up in the same loop iteration.
      setImmediate(() => this.close());
    }
    (this as EventEmitter).emit(event, payload);
  }

  /** Hook for subclasses holding pending work (queued sends): the handle is gone, with `reason`. */
  protected onClosed(_reason: CorosyncError): void {}

  /** Runs a native call, retrying CS_ERR_TRY_AGAIN (SYNC_RETRY); throws CS_ERR_BAD_HANDLE once closed. */
  protected call<T>(operation: string, fn: (native: N) => T): T {
    if (!this.#open) throw new CorosyncError('CS_ERR_BAD_HANDLE', operation);
    return retrySync(() => fn(this.native));
  }
}
