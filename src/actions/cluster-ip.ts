// The cluster (license) IP on CloudIpDev: "make it so" in both directions, verified after
// every change. Taking it: status and duplicate address check (both read-only, so they may be
// prepared ahead, while the daemon writes its state), then the add and a verifying read of the
// device's addresses, then the first gratuitous ARP; the remaining ARPs go on in the background.
// Dropping it: stop announcing, delete, verify. Both are safe to repeat after a crash.
//
// Two ways to do it, the same steps and order: with a `network` (native-net.ts: rtnetlink and
// packet sockets from the addon, no process start; the daemon in its own namespace), or with
// commands through the runner (`ip -batch`, `arping`: injected runners, tests, the simulator).

import { networkInterfaces } from 'node:os';
import { performance } from 'node:perf_hooks';
import { checkAddressFree, DEFAULT_DAD_WINDOW_MS, startAnnouncement, type AnnounceOptions, type Announcement, type ArpSent, type DuplicateCheckOptions } from './arping';
import { CommandFailedError, type CommandRunner, runChecked, succeeded } from './command-runner';
import { parseIpAddrJson } from './ip-addr';
import { type ClusterIpNetwork, hasCode, probeAddressFree, startNativeAnnouncement } from './native-net';

export interface ClusterIpOptions {
  readonly runner: CommandRunner;
  /** IPv4 address (CloudIp). */
  readonly ip: string;
  /** Prefix length (CloudMask as a prefix). */
  readonly prefixLength: number;
  /** Interface (CloudIpDev, default vmbr0). */
  readonly dev?: string;
  /** Duplicate address detection before adding; false disables it (not recommended). */
  readonly duplicateCheck?: DuplicateCheckOptions | false;
  readonly announce?: AnnounceOptions;
  /** Per command (default 10 s). */
  readonly timeoutMs?: number;
  /** Extra environment for the commands (e.g. the COROLISTENER_* context). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * A cheaper source of status() than a process start, valid only when the commands run in this
   * process's network namespace (see localClusterIpStatus); undefined answers fall back to `ip`.
   */
  readonly localStatus?: (dev: string, ip: string) => ClusterIpStatus | undefined;
  /**
   * The addon's network calls (native-net.ts), valid only in this process's network namespace:
   * status, add/delete, the duplicate probe and the ARPs then need no process (the runner is
   * not used for the cluster IP at all).
   */
  readonly network?: ClusterIpNetwork;
  /** Each gratuitous ARP as it leaves (the first one's time is the failover's visible moment). */
  readonly onArpSent?: (sent: ArpSent) => void;
  /**
   * A background gratuitous ARP failed (after ensurePresent returned); the next ensurePresent
   * announces again. Must not throw.
   */
  readonly onAnnounceFailed?: (error: Error) => void;
}

export interface ClusterIpStatus {
  readonly deviceExists: boolean;
  /** The address is on the device (with whatever prefix). */
  readonly present: boolean;
  /** Prefix it is configured with, when present. */
  readonly prefixLength?: number;
  /** The device's MAC, when it exists. */
  readonly mac?: string;
}

/** One address change: add with, or delete the address configured with, this prefix length. */
type AddressChange = { readonly add: number } | { readonly del: number };

export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/**
 * How old (from its start) a prepared check may be when ensurePresent uses it; older, it is
 * done again. It bounds the time between the duplicate probe and `ip addr add` to about what
 * it was when the probe ran inside the step (probe window plus one process start under load).
 */
export const PREPARED_CHECK_MAX_AGE_MS = 100;

/** The read-only checks before taking the address, started together. */
interface Checks {
  readonly startedAt: number;
  /** The value of `generation` when they started: any change of ours since makes them stale. */
  readonly generation: number;
  readonly status: Promise<ClusterIpStatus>;
  /** Resolves when nobody else answers for the address (undefined: no duplicate check). */
  readonly free: Promise<void> | undefined;
  /** Stops the duplicate check (its verdict is then a failure, never "free"). */
  readonly stop: AbortController;
}

export class ClusterIp {
  readonly dev: string;
  /** Set when the address was added but its announcement has not succeeded (yet). */
  private announcePending = false;
  /** The announcement going on in the background, if any. */
  private announcement: Announcement | undefined;
  /** Checks started by prepare() for the next ensurePresent. */
  private prepared: Checks | undefined;
  /** Bumped before and after every change we make to the device's addresses. */
  private generation = 0;

  constructor(private readonly options: ClusterIpOptions) {
    this.dev = options.dev ?? 'vmbr0';
    if (!IPV4_RE.test(options.ip)) throw new TypeError(`cluster IP: not an IPv4 address: ${JSON.stringify(options.ip)}`);
    const p = options.prefixLength;
    if (!Number.isInteger(p) || p < 0 || p > 32) throw new TypeError(`cluster IP: prefix length must be 0..32, got ${p}`);
    // Quotes, backslashes and '#' mean something to `ip -batch`; no real interface has them.
    if (!/^[^\s/"'\\#]{1,15}$/.test(this.dev)) throw new TypeError(`cluster IP: invalid device name ${JSON.stringify(this.dev)}`);
    const w = options.duplicateCheck ? options.duplicateCheck.windowMs : undefined;
    // arping's own `-w 1` deadline ends the check at 1 s anyway.
    if (w !== undefined && !(Number.isFinite(w) && w >= 1 && w < 1000)) throw new TypeError(`cluster IP: duplicate check windowMs must be 1..999, got ${w}`);
  }

  get address(): string {
    return `${this.options.ip}/${this.options.prefixLength}`;
  }

  /** What `ip -j addr show dev DEV` (or the localStatus option) says about the cluster IP right now. */
  async status(signal?: AbortSignal): Promise<ClusterIpStatus> {
    if (this.options.network !== undefined) return this.networkStatus(this.options.network);
    const local = this.options.localStatus?.(this.dev, this.options.ip);
    if (local !== undefined) return local;
    const argv = ['ip', '-j', 'addr', 'show', 'dev', this.dev];
    const result = await this.options.runner.run(argv, this.runOptions(signal));
    if (!succeeded(result)) {
      if (result.exitCode !== null && /does not exist|Cannot find device/i.test(result.stderr)) {
        return { deviceExists: false, present: false };
      }
      throw new CommandFailedError(result);
    }
    return this.statusFrom(result.stdout, argv.join(' '));
  }

  /**
   * Starts the read-only checks of ensurePresent now (status and duplicate address check, side
   * by side), for an ensurePresent that follows within PREPARED_CHECK_MAX_AGE_MS. They change
   * nothing (a DAD probe claims no address), so a daemon may run them while it writes its
   * state ahead of the takeover. Checks already prepared and still usable are kept.
   */
  prepare(): void {
    if (this.prepared !== undefined && this.usable(this.prepared)) return;
    this.discardPrepared();
    this.prepared = this.startChecks();
  }

  /**
   * Makes sure the address is on the device with the right prefix and is being announced.
   * Resolves once it is added and verified and the first gratuitous ARP has left; the other
   * ARPs follow in the background. Returns whether anything changed. DuplicateAddressError
   * when another host holds it.
   */
  async ensurePresent(signal?: AbortSignal): Promise<{ changed: boolean }> {
    const prepared = this.prepared;
    this.prepared = undefined;
    const checks = prepared !== undefined && this.usable(prepared) ? prepared : this.startChecks();
    if (checks !== prepared) prepared?.stop.abort();
    const forward = () => checks.stop.abort();
    if (signal?.aborted) forward();
    else signal?.addEventListener('abort', forward, { once: true });
    let changed = false;
    try {
      const before = await checks.status;
      if (before.present) checks.stop.abort(); // ours already: no duplicate check needed
      if (!before.deviceExists) throw new VerificationError(`cluster IP: device ${this.dev} does not exist`);
      if (before.present && before.prefixLength !== this.options.prefixLength) {
        // Ours, but with the wrong mask: replace it (no duplicate check: we are the holder).
        await this.change([{ del: before.prefixLength! }, { add: this.options.prefixLength }], true, signal);
        changed = true;
      } else if (!before.present) {
        await checks.free;
        await this.change([{ add: this.options.prefixLength }], true, signal);
        changed = true;
      }
    } finally {
      signal?.removeEventListener('abort', forward);
      checks.stop.abort(); // a check still running is of no use any more
    }
    if (changed || this.announcePending) {
      // Clients start coming here with this ARP; the step is over once it has left.
      await this.announce().firstSent;
    }
    return { changed };
  }

  /** Makes sure the address is not on the device. Returns whether anything changed. */
  async ensureAbsent(signal?: AbortSignal): Promise<{ changed: boolean }> {
    // Never announce an address we are giving up, nor take it on checks made before.
    this.stopAnnouncing();
    this.announcePending = false;
    this.discardPrepared();
    const before = await this.status(signal);
    if (!before.present) return { changed: false };
    await this.change([{ del: before.prefixLength! }], false, signal);
    return { changed: true };
  }

  /**
   * Starts the gratuitous ARPs in the background (replacing any still going on); also usable on
   * its own, e.g. to re-announce after a restart. A failure goes to onAnnounceFailed and makes
   * the next ensurePresent announce again.
   */
  announce(): Announcement {
    this.stopAnnouncing();
    this.announcePending = false;
    const network = this.options.network;
    const a =
      network !== undefined
        ? startNativeAnnouncement(network, { dev: this.dev, ip: this.options.ip, ...this.options.announce, onArpSent: this.options.onArpSent })
        : startAnnouncement({ ...this.common(), ...this.options.announce, onArpSent: this.options.onArpSent });
    this.announcement = a;
    void a.done.then((outcome) => {
      if (this.announcement !== a) return; // replaced or stopped: its end is not news
      this.announcement = undefined;
      if (outcome.error === undefined) return;
      this.announcePending = true;
      try {
        this.options.onAnnounceFailed?.(outcome.error);
      } catch {
        // The callback must not throw; there is nobody to hand its error to.
      }
    });
    a.firstSent.catch(() => {
      if (this.announcement === a) this.announcePending = true;
    });
    return a;
  }

  /** Resolves when the background announcement (if any) is over: for tests and one-shot tools. */
  async announced(): Promise<void> {
    await this.announcement?.done;
  }

  private stopAnnouncing(): void {
    const a = this.announcement;
    this.announcement = undefined;
    a?.abort();
  }

  private startChecks(): Checks {
    const stop = new AbortController();
    const dad = this.options.duplicateCheck;
    // The duplicate check first: it takes longest (its listening window).
    const network = this.options.network;
    const free =
      dad === false
        ? undefined
        : network !== undefined
          ? probeAddressFree(network, { dev: this.dev, ip: this.options.ip, windowMs: dad?.windowMs ?? DEFAULT_DAD_WINDOW_MS, signal: stop.signal })
          : checkAddressFree({ ...this.common(stop.signal), ...dad });
    const status = this.status(stop.signal);
    // Awaited by ensurePresent when needed; a check nobody waits for must not be "unhandled".
    status.catch(() => undefined);
    free?.catch(() => undefined);
    return { startedAt: performance.now(), generation: this.generation, status, free, stop };
  }

  private usable(c: Checks): boolean {
    return c.generation === this.generation && !c.stop.signal.aborted && performance.now() - c.startedAt <= PREPARED_CHECK_MAX_AGE_MS;
  }

  private discardPrepared(): void {
    this.prepared?.stop.abort();
    this.prepared = undefined;
  }

  /**
   * Makes the address changes and verifies the outcome from a fresh read of the device's
   * addresses: with a network, each change acknowledged by the kernel, then a dump; else one
   * `ip -batch` with the changes then `addr show` (it stops at the first failing command).
   */
  private async change(changes: ReadonlyArray<AddressChange>, wantPresent: boolean, signal?: AbortSignal): Promise<void> {
    this.generation++;
    let s: ClusterIpStatus;
    try {
      s = this.options.network !== undefined ? this.changeThrough(this.options.network, changes) : await this.changeByCommand(changes, signal);
    } finally {
      this.generation++;
    }
    const ok = wantPresent ? s.present && s.prefixLength === this.options.prefixLength : !s.present;
    if (!ok) {
      const now = s.present ? `present as ${this.options.ip}/${s.prefixLength}` : 'absent';
      throw new VerificationError(`cluster IP ${this.address} on ${this.dev}: expected ${wantPresent ? 'present' : 'absent'}, found ${now}`);
    }
  }

  private async changeByCommand(changes: ReadonlyArray<AddressChange>, signal?: AbortSignal): Promise<ClusterIpStatus> {
    const argv = ['ip', '-j', '-batch', '-'];
    const commands = changes.map((c) => ('add' in c ? `addr add ${this.options.ip}/${c.add} dev ${this.dev}` : `addr del ${this.options.ip}/${c.del} dev ${this.dev}`));
    const input = [...commands, `addr show dev ${this.dev}`].map((c) => `${c}\n`).join('');
    const result = await runChecked(this.options.runner, argv, { ...this.runOptions(signal), input });
    return this.statusFrom(result.stdout, `${argv.join(' ')} (${input.trim().split('\n').join('; ')})`);
  }

  /**
   * The same through rtnetlink. "Already there" on add and "not there" on delete are not
   * failures: the read that follows decides (as `ip -batch` would have stopped, then shown).
   */
  private changeThrough(network: ClusterIpNetwork, changes: ReadonlyArray<AddressChange>): ClusterIpStatus {
    for (const c of changes) {
      try {
        if ('add' in c) network.addAddress(this.dev, this.options.ip, c.add);
        else network.deleteAddress(this.dev, this.options.ip, c.del);
      } catch (err) {
        if (!hasCode(err, 'add' in c ? 'EEXIST' : 'EADDRNOTAVAIL')) throw err;
      }
    }
    return this.networkStatus(network);
  }

  private networkStatus(network: ClusterIpNetwork): ClusterIpStatus {
    const dev = network.addresses(this.dev);
    if (dev === undefined) return { deviceExists: false, present: false };
    const addr = dev.addresses.find((a) => a.local === this.options.ip);
    return { deviceExists: true, present: addr !== undefined, prefixLength: addr?.prefixlen, mac: dev.mac };
  }

  private statusFrom(stdout: string, source: string): ClusterIpStatus {
    const link = parseIpAddrJson(stdout, source).find((l) => l.ifname === this.dev);
    if (!link) return { deviceExists: false, present: false };
    const addr = link.addresses.find((a) => a.family === 'inet' && a.local === this.options.ip);
    return { deviceExists: true, present: addr !== undefined, prefixLength: addr?.prefixlen, mac: link.mac };
  }

  private runOptions(signal?: AbortSignal) {
    return { timeoutMs: this.options.timeoutMs ?? 10_000, env: this.options.env, signal };
  }

  private common(signal?: AbortSignal) {
    return { runner: this.options.runner, dev: this.dev, ip: this.options.ip, ...this.runOptions(signal) };
  }
}

/**
 * status() from the interface list of this process (getifaddrs(3) through os.networkInterfaces,
 * no process start), for a daemon whose commands run in its own network namespace. An IPv4
 * address appears under its label, which is the device's name unless it was added with an
 * alias label (`dev:x`), so those count too. A device it does not list (no address at all, or
 * no such device) is left to `ip`, which tells the two apart.
 */
export function localClusterIpStatus(dev: string, ip: string): ClusterIpStatus | undefined {
  const all = networkInterfaces();
  const own = all[dev];
  if (own === undefined) return undefined;
  const addr = Object.entries(all)
    .filter(([name]) => name === dev || name.startsWith(`${dev}:`))
    .flatMap(([, list]) => list ?? [])
    .find((a) => a.family === 'IPv4' && a.address === ip);
  const prefixLength = addr?.cidr ? Number(addr.cidr.split('/')[1]) : undefined;
  return { deviceExists: true, present: addr !== undefined, prefixLength, mac: own[0]?.mac };
}
