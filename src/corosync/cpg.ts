// Cpg: a closed process group with agreed (total) order messaging.
import { loadAddon } from './bindings';
import type { CpgAddress, CpgConfchgEvent, CpgMessageEvent, CpgTotemEvent, NativeCpg, NativeCpgClass, NativeCpgEvents } from './bindings';
import { CorosyncError, isTryAgain } from './errors';
import { CorosyncHandle } from './handle';
import type { DisconnectEvent } from './handle';
import { SEND_RETRY, backoffDelays } from './retry';
import type { RetryPolicy } from './retry';

export interface CpgEvents extends DisconnectEvent {
  confchg: CpgConfchgEvent;
  message: CpgMessageEvent;
  totem: CpgTotemEvent;
}

interface PendingSend {
  data: Buffer;
  resolve: () => void;
  reject: (error: CorosyncError) => void;
  delays?: Generator<number>;
}

export class Cpg extends CorosyncHandle<NativeCpg, NativeCpgEvents, CpgEvents> {
  readonly groupName: string;
  // Sends leave in call order: a message waiting out flow control holds back the later ones.
  readonly #pending: PendingSend[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  #referenced = true;
  #sendRetries = 0;
  readonly #sendRetry: RetryPolicy;

  constructor(groupName: string, native: NativeCpgClass = loadAddon().Cpg, sendRetry: RetryPolicy = SEND_RETRY) {
    super((emit) => new native(groupName, emit));
    this.groupName = groupName;
    this.#sendRetry = sendRetry;
  }

  join(): void {
    this.call('cpg_join', (native) => native.join());
  }

  leave(): void {
    this.call('cpg_leave', (native) => native.leave());
  }

  /**
   * Multicasts `data` to the group in agreed order. Under flow control (CS_ERR_TRY_AGAIN) it is
   * retried per SEND_RETRY (up to 10 s) before the promise rejects; later sends wait their turn.
   */
  send(data: Buffer): Promise<void> {
    if (!Buffer.isBuffer(data)) return Promise.reject(new TypeError('Cpg.send(data): data must be a Buffer'));
    if (!this.isOpen) return Promise.reject(new CorosyncError('CS_ERR_BAD_HANDLE', 'cpg_mcast_joined'));
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ data, resolve, reject });
      if (this.#pending.length === 1) this.#drain();
    });
  }

  /**
   * How many times a send was retried because corosync answered CS_ERR_TRY_AGAIN (CPG flow
   * control), since this handle was opened. Diagnostics: shows whether a burst hit flow control.
   */
  get sendRetries(): number {
    return this.#sendRetries;
  }

  members(): CpgAddress[] {
    return this.call('cpg_membership_get', (native) => native.members());
  }

  localNodeId(): number {
    return this.call('cpg_local_get', (native) => native.localNodeId());
  }

  override ref(): this {
    this.#referenced = true;
    this.#retryTimer?.ref();
    return super.ref();
  }

  override unref(): this {
    this.#referenced = false;
    this.#retryTimer?.unref();
    return super.unref();
  }

  protected override onClosed(reason: CorosyncError): void {
    clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    for (const send of this.#pending.splice(0)) send.reject(reason);
  }

  #drain(): void {
    this.#retryTimer = undefined;
    while (this.#pending.length > 0 && this.isOpen) {
      const head = this.#pending[0];
      try {
        this.native.mcast(head.data);
      } catch (error) {
        if (isTryAgain(error)) {
          head.delays ??= backoffDelays(this.#sendRetry);
          const next = head.delays.next();
          if (!next.done) {
            this.#sendRetries += 1;
            this.#retryTimer = setTimeout(() => this.#drain(), next.value);
            if (!this.#referenced) this.#retryTimer.unref();
            return;
          }
        }
        this.#pending.shift();
        head.reject(error instanceof CorosyncError ? error : new CorosyncError('CS_ERR_LIBRARY', 'cpg_mcast_joined'));
        continue;
      }
      this.#pending.shift();
      head.resolve();
    }
  }
}
