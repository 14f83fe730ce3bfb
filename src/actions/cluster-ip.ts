// The cluster (license) IP on CloudIpDev: "make it so" in both directions, verified after
// every change. Taking it: duplicate address check, `ip addr add`, first gratuitous ARP,
// verify; the remaining ARPs go on in the background. Dropping it: stop announcing,
// `ip addr del`, verify. Both are safe to repeat after a crash.

import {
  checkAddressFree,
  startAnnouncement,
  type AnnounceOptions,
  type Announcement,
  type ArpSent,
  type DuplicateCheckOptions,
} from './arping';
import { CommandFailedError, type CommandRunner, runChecked, succeeded } from './command-runner';
import { parseIpAddrJson } from './ip-addr';

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

export class VerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VerificationError';
  }
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export class ClusterIp {
  readonly dev: string;
  /** Set when the address was added but its announcement has not succeeded (yet). */
  private announcePending = false;
  /** The announcement going on in the background, if any. */
  private announcement: Announcement | undefined;

  constructor(private readonly options: ClusterIpOptions) {
    this.dev = options.dev ?? 'vmbr0';
    if (!IPV4_RE.test(options.ip)) throw new TypeError(`cluster IP: not an IPv4 address: ${JSON.stringify(options.ip)}`);
    const p = options.prefixLength;
    if (!Number.isInteger(p) || p < 0 || p > 32) throw new TypeError(`cluster IP: prefix length must be 0..32, got ${p}`);
    if (!/^[^\s/]{1,15}$/.test(this.dev)) throw new TypeError(`cluster IP: invalid device name ${JSON.stringify(this.dev)}`);
    const w = options.duplicateCheck ? options.duplicateCheck.windowMs : undefined;
    // arping's own `-w 1` deadline ends the check at 1 s anyway.
    if (w !== undefined && !(Number.isFinite(w) && w >= 1 && w < 1000)) throw new TypeError(`cluster IP: duplicate check windowMs must be 1..999, got ${w}`);
  }

  get address(): string {
    return `${this.options.ip}/${this.options.prefixLength}`;
  }

  /** What `ip -j addr show dev DEV` says about the cluster IP right now. */
  async status(signal?: AbortSignal): Promise<ClusterIpStatus> {
    const argv = ['ip', '-j', 'addr', 'show', 'dev', this.dev];
    const result = await this.options.runner.run(argv, this.runOptions(signal));
    if (!succeeded(result)) {
      if (result.exitCode !== null && /does not exist|Cannot find device/i.test(result.stderr)) {
        return { deviceExists: false, present: false };
      }
      throw new CommandFailedError(result);
    }
    const links = parseIpAddrJson(result.stdout, argv.join(' '));
    const link = links.find((l) => l.ifname === this.dev);
    if (!link) return { deviceExists: false, present: false };
    const addr = link.addresses.find((a) => a.family === 'inet' && a.local === this.options.ip);
    return { deviceExists: true, present: addr !== undefined, prefixLength: addr?.prefixlen, mac: link.mac };
  }

  /**
   * Makes sure the address is on the device with the right prefix and is being announced.
   * Resolves once it is added and the first gratuitous ARP has left (then verified); the other
   * ARPs follow in the background. Returns whether anything changed. DuplicateAddressError
   * when another host holds it.
   */
  async ensurePresent(signal?: AbortSignal): Promise<{ changed: boolean }> {
    const before = await this.status(signal);
    if (!before.deviceExists) throw new VerificationError(`cluster IP: device ${this.dev} does not exist`);
    let changed = false;
    if (before.present && before.prefixLength !== this.options.prefixLength) {
      // Ours, but with the wrong mask: replace it (no duplicate check: we are the holder).
      await this.del(before.prefixLength!, signal);
      await this.add(signal);
      changed = true;
    } else if (!before.present) {
      if (this.options.duplicateCheck !== false) {
        await checkAddressFree({ ...this.common(signal), ...this.options.duplicateCheck });
      }
      await this.add(signal);
      changed = true;
    }
    if (changed || this.announcePending) {
      // The first ARP before verifying: it is the moment clients start coming here.
      await this.announce().firstSent;
    }
    if (changed) {
      try {
        await this.verify(true, signal);
      } catch (err) {
        this.stopAnnouncing();
        throw err;
      }
    }
    return { changed };
  }

  /** Makes sure the address is not on the device. Returns whether anything changed. */
  async ensureAbsent(signal?: AbortSignal): Promise<{ changed: boolean }> {
    // Never announce an address we are giving up.
    this.stopAnnouncing();
    this.announcePending = false;
    const before = await this.status(signal);
    if (!before.present) return { changed: false };
    await this.del(before.prefixLength!, signal);
    await this.verify(false, signal);
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
    const a = startAnnouncement({ ...this.common(), ...this.options.announce, onArpSent: this.options.onArpSent });
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

  private async add(signal?: AbortSignal): Promise<void> {
    await runChecked(this.options.runner, ['ip', 'addr', 'add', this.address, 'dev', this.dev], this.runOptions(signal));
  }

  private async del(prefixLength: number, signal?: AbortSignal): Promise<void> {
    const argv = ['ip', 'addr', 'del', `${this.options.ip}/${prefixLength}`, 'dev', this.dev];
    await runChecked(this.options.runner, argv, this.runOptions(signal));
  }

  private async verify(wantPresent: boolean, signal?: AbortSignal): Promise<void> {
    const s = await this.status(signal);
    const ok = wantPresent ? s.present && s.prefixLength === this.options.prefixLength : !s.present;
    if (!ok) {
      const now = s.present ? `present as ${this.options.ip}/${s.prefixLength}` : 'absent';
      throw new VerificationError(`cluster IP ${this.address} on ${this.dev}: expected ${wantPresent ? 'present' : 'absent'}, found ${now}`);
    }
  }

  private runOptions(signal?: AbortSignal) {
    return { timeoutMs: this.options.timeoutMs ?? 10_000, env: this.options.env, signal };
  }

  private common(signal?: AbortSignal) {
    return { runner: this.options.runner, dev: this.dev, ip: this.options.ip, ...this.runOptions(signal) };
  }
}
