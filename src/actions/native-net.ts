// The cluster IP's network calls from the addon instead of `ip` and `arping` processes (issue 16):
// rtnetlink for the addresses, an RFC 5227 probe and gratuitous ARPs on packet sockets. Used
// only when the daemon's actions run in its own network namespace (node-actions.ts): a process
// start from the ~60 MB daemon costs 2-25 ms on a loaded machine, these calls microseconds.
// The native classes are constructor arguments, so unit tests inject fakes (as src/corosync does).

import { performance } from 'node:perf_hooks';
import { loadAddon, type NativeArpProbeClass, type NativeDeviceAddresses, type NativeNet, type NativeNetClass } from '../corosync/bindings';
import { DuplicateAddressError, type AnnounceOutcome, type Announcement, type ArpSent } from './arping';

/** What ClusterIp needs from the network when it does not run commands (see NativeNetwork). */
export interface ClusterIpNetwork {
  /** The device's IPv4 addresses and MAC; undefined when there is no such device. */
  addresses(dev: string): NativeDeviceAddresses | undefined;
  /** Adds the address; resolves once the kernel acknowledged it. EEXIST when already there. */
  addAddress(dev: string, ip: string, prefixLength: number): void;
  /** Removes the address; EADDRNOTAVAIL when it was not there. */
  deleteAddress(dev: string, ip: string, prefixLength: number): void;
  /** The MACs that claimed `ip` within `windowMs` after the probe left (empty: free). */
  probe(dev: string, ip: string, windowMs: number, signal?: AbortSignal): Promise<string[]>;
  /** One gratuitous ARP, sent when this returns. */
  announce(dev: string, ip: string, mode: 'request' | 'reply'): void;
}

export interface NativeNetClasses {
  readonly Net: NativeNetClass;
  readonly ArpProbe: NativeArpProbeClass;
}

/** True for the errno name of a failed native network call (e.g. 'EEXIST'). */
export function hasCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/**
 * The addon's Net and ArpProbe behind ClusterIpNetwork. Nothing is loaded or opened until the
 * first call, so building NodeActions costs nothing on a node that never holds the address.
 */
export class NativeNetwork implements ClusterIpNetwork {
  private net: NativeNet | undefined;
  private classes: NativeNetClasses | undefined;

  constructor(classes?: NativeNetClasses) {
    this.classes = classes;
  }

  addresses(dev: string): NativeDeviceAddresses | undefined {
    return this.open().addresses(dev);
  }

  addAddress(dev: string, ip: string, prefixLength: number): void {
    this.open().addAddress(dev, ip, prefixLength);
  }

  deleteAddress(dev: string, ip: string, prefixLength: number): void {
    this.open().deleteAddress(dev, ip, prefixLength);
  }

  announce(dev: string, ip: string, mode: 'request' | 'reply'): void {
    this.open().announce(dev, ip, mode);
  }

  async probe(dev: string, ip: string, windowMs: number, signal?: AbortSignal): Promise<string[]> {
    return (await this.probeTimed(dev, ip, windowMs, signal)).holders;
  }

  /**
   * probe(), and when someone answered, the ms from the send to the kernel's receipt of the answer.
   * Silence counts only from a link that carries frames from before the probe to after its window
   * (linkCarries): else the probe is an ENETDOWN error, never "free".
   */
  async probeTimed(dev: string, ip: string, windowMs: number, signal?: AbortSignal): Promise<{ holders: string[]; answeredAfterMs?: number }> {
    this.linkCarries(dev);
    const outcome = await this.listen(dev, ip, windowMs, signal);
    if (outcome.holders.length === 0) this.linkCarries(dev);
    return outcome;
  }

  /**
   * Throws a coded ENETDOWN error unless `dev` is up, has its carrier (IFF_LOWER_UP, as the
   * daemon's carrier tracking reads it) and is operational (IFF_RUNNING). The kernel sets the last
   * in deferred work (linkwatch: up to a second after the carrier changed, later on a busy
   * machine), and until then a frame sent on the device is dropped while sendto still succeeds.
   */
  linkCarries(dev: string): void {
    const flags = this.open().linkFlags(dev);
    if (flags === undefined) throw codedError('ENODEV', `ARP probe on ${dev}: no such device`);
    const missing = LINK_FLAGS.filter(([bit]) => (flags & bit) === 0).map(([, name]) => name);
    if (missing.length > 0) throw codedError('ENETDOWN', `ARP probe on ${dev}: the link does not carry frames (not ${missing.join(', not ')}); silence would prove nothing`);
  }

  private listen(dev: string, ip: string, windowMs: number, signal?: AbortSignal): Promise<{ holders: string[]; answeredAfterMs?: number }> {
    if (signal?.aborted) return Promise.reject(abortError(ip));
    const { ArpProbe } = this.native();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        probe.cancel();
        reject(abortError(ip));
      };
      // The constructor sends the probe (or throws, e.g. ENODEV, ENETDOWN: then nothing listens).
      const probe = new ArpProbe(dev, ip, windowMs, (error, holders, answeredAfterMs) => {
        signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve({ holders: holders ?? [], ...(answeredAfterMs === undefined ? {} : { answeredAfterMs }) });
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes the sockets (a later call opens them again). */
  close(): void {
    this.net?.close();
    this.net = undefined;
  }

  private native(): NativeNetClasses {
    this.classes ??= loadAddon();
    return this.classes;
  }

  private open(): NativeNet {
    this.net ??= new (this.native().Net)();
    return this.net;
  }
}

/** The interface flags a probe's silence depends on (linux/if.h). */
const LINK_FLAGS: ReadonlyArray<readonly [number, string]> = [
  [0x1, 'UP'],
  [0x10000, 'LOWER_UP'],
  [0x40, 'RUNNING'],
];

function codedError(code: string, message: string): Error {
  return Object.assign(new Error(`${message} (${code})`), { code });
}

function abortError(ip: string): Error {
  return Object.assign(new Error(`duplicate-address probe for ${ip}: stopped before its window ended; cannot tell whether it is free`), { retryable: true });
}

/**
 * Resolves when nobody claims `ip` within the window after the probe left; DuplicateAddressError
 * naming the MACs that did. Errors (and an abort) are retryable failures, never "free".
 */
export async function probeAddressFree(network: ClusterIpNetwork, o: { readonly dev: string; readonly ip: string; readonly windowMs: number; readonly signal?: AbortSignal }): Promise<void> {
  let holders: string[];
  try {
    holders = await network.probe(o.dev, o.ip, o.windowMs, o.signal);
  } catch (err) {
    throw Object.assign(err instanceof Error ? err : new Error(String(err)), { retryable: true });
  }
  if (holders.length > 0) throw new DuplicateAddressError(o.ip, o.dev, holders);
}

/**
 * The same schedule as arping.ts' startAnnouncement (`count` ARPs `intervalMs` apart, the first
 * at once), sent from the addon: the first one has left when this returns.
 */
export function startNativeAnnouncement(
  network: ClusterIpNetwork,
  o: { readonly dev: string; readonly ip: string; readonly count?: number; readonly intervalMs?: number; readonly mode?: 'request' | 'reply'; readonly onArpSent?: (sent: ArpSent) => void },
): Announcement {
  const count = Math.max(1, o.count ?? 5);
  const intervalMs = o.intervalMs ?? 200;
  let sent = 0;
  let timer: NodeJS.Timeout | undefined;
  let finish!: (outcome: AnnounceOutcome) => void;
  const done = new Promise<AnnounceOutcome>((resolve) => (finish = resolve));
  let over = false;
  const end = (aborted: boolean, error?: Error) => {
    if (over) return;
    over = true;
    clearTimeout(timer);
    finish({ sent, aborted, ...(error === undefined ? {} : { error }) });
  };
  const sendOne = (): Error | undefined => {
    try {
      network.announce(o.dev, o.ip, o.mode ?? 'request');
    } catch (err) {
      return err instanceof Error ? err : new Error(String(err));
    }
    sent++;
    o.onArpSent?.({ index: sent - 1, count, at: performance.now() });
    return undefined;
  };
  const next = () => {
    timer = undefined;
    const error = sendOne();
    if (error !== undefined) end(false, error);
    else if (sent >= count) end(false);
    else timer = setTimeout(next, intervalMs);
  };
  const firstError = sendOne();
  const firstSent = firstError === undefined ? Promise.resolve() : Promise.reject(firstError);
  firstSent.catch(() => undefined); // whoever awaits it sees the rejection; nobody else must
  if (firstError !== undefined) end(false, firstError);
  else if (sent >= count) end(false);
  else timer = setTimeout(next, intervalMs);
  return { firstSent, done, abort: () => end(true) };
}
