// The cluster IP through the addon's network calls (native-net.ts), with the native classes and
// the network faked: the same safety order as the command path (probe before add, verified
// after), and the gratuitous ARP schedule. The real addon is tested in
// test/integration/native-net.test.ts.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { DuplicateAddressError } from '../../../src/actions/arping';
import { ClusterIp, VerificationError } from '../../../src/actions/cluster-ip';
import type { CommandRunner } from '../../../src/actions/command-runner';
import { type ClusterIpNetwork, NativeNetwork, probeAddressFree, startNativeAnnouncement } from '../../../src/actions/native-net';
import type { NativeArpProbeClass, NativeDeviceAddresses, NativeNet, NativeNetError } from '../../../src/corosync/bindings';

const IP = '198.18.0.100';
const MAC = 'aa:bb:cc:00:00:11';

const sysError = (code: string, operation: string): NativeNetError => Object.assign(new Error(`${operation} failed: ${code}`), { code, errno: 1, operation });

/** No command may run when the network is given. */
const noCommands: CommandRunner = {
  run: (argv) => Promise.reject(new Error(`unexpected command ${argv.join(' ')}`)),
};

/** One device, its addresses, other hosts on its LAN, and a log of every call in order. */
class FakeNetwork implements ClusterIpNetwork {
  devExists = true;
  addrs = new Map<string, number>([['198.18.0.11', 24]]);
  holders: string[] = [];
  addIsNoop = false;
  probeError: Error | undefined;
  announceFailAfter = Infinity;
  announced: Array<{ mode: string; at: number }> = [];
  readonly calls: string[] = [];

  addresses(dev: string): NativeDeviceAddresses | undefined {
    this.calls.push('addresses');
    if (!this.devExists) return undefined;
    return { ifindex: 3, mac: MAC, addresses: [...this.addrs].map(([local, prefixlen]) => ({ family: 'inet' as const, local, prefixlen, label: dev })) };
  }

  addAddress(dev: string, ip: string, prefixLength: number): void {
    this.calls.push(`add ${ip}/${prefixLength}`);
    if (!this.devExists) throw sysError('ENODEV', `RTM_NEWADDR ${dev}`);
    if (this.addrs.has(ip)) throw sysError('EEXIST', `RTM_NEWADDR ${dev}`);
    if (!this.addIsNoop) this.addrs.set(ip, prefixLength);
  }

  deleteAddress(dev: string, ip: string, prefixLength: number): void {
    this.calls.push(`del ${ip}/${prefixLength}`);
    if (this.addrs.get(ip) !== prefixLength) throw sysError('EADDRNOTAVAIL', `RTM_DELADDR ${dev}`);
    this.addrs.delete(ip);
  }

  async probe(_dev: string, ip: string, windowMs: number, signal?: AbortSignal): Promise<string[]> {
    this.calls.push(`probe ${ip} ${windowMs}`);
    if (this.probeError) throw this.probeError;
    if (this.holders.length > 0) return [...this.holders];
    await sleep(windowMs, undefined, { signal });
    return [];
  }

  announce(_dev: string, _ip: string, mode: 'request' | 'reply'): void {
    if (this.announced.length >= this.announceFailAfter) throw sysError('ENETDOWN', 'send gratuitous ARP on vmbr0');
    this.calls.push(`arp ${mode}`);
    this.announced.push({ mode, at: performance.now() });
  }
}

const clusterIp = (network: ClusterIpNetwork, extra: Partial<ConstructorParameters<typeof ClusterIp>[0]> = {}) =>
  new ClusterIp({ runner: noCommands, ip: IP, prefixLength: 24, dev: 'vmbr0', network, announce: { count: 5, intervalMs: 20 }, ...extra });

describe('ClusterIp with the addon network (no processes)', () => {
  it('probes, adds, reads the addresses back, then sends the first ARP: in that order, before ensurePresent resolves', async () => {
    const net = new FakeNetwork();
    const ip = clusterIp(net);
    expect(await ip.ensurePresent()).toEqual({ changed: true });
    // The probe starts first (it takes longest), the status read beside it.
    expect(net.calls.slice(0, 5)).toEqual([`probe ${IP} 5`, 'addresses', `add ${IP}/24`, 'addresses', 'arp request']);
    expect(net.addrs.get(IP)).toBe(24);
    await ip.announced();
    expect(net.announced).toHaveLength(5);
    // Present already: nothing to do, no probe, no announcement.
    net.calls.length = 0;
    expect(await ip.ensurePresent()).toEqual({ changed: false });
    expect(net.calls.filter((c) => !c.startsWith('addresses') && !c.startsWith('probe'))).toEqual([]);
  });

  it('a holder answering the probe: DuplicateAddressError naming it, nothing added', async () => {
    const net = new FakeNetwork();
    net.holders = ['de:ad:be:ef:00:01'];
    const err = await clusterIp(net)
      .ensurePresent()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateAddressError);
    expect((err as DuplicateAddressError).holders).toEqual(['de:ad:be:ef:00:01']);
    expect((err as DuplicateAddressError).retryable).toBe(true);
    expect(net.calls.some((c) => c.startsWith('add '))).toBe(false);
    expect(net.addrs.has(IP)).toBe(false);
  });

  it('a probe that fails is a retryable failure, never "free": nothing added', async () => {
    const net = new FakeNetwork();
    net.probeError = sysError('ENETDOWN', 'send ARP probe on vmbr0');
    const err = (await clusterIp(net)
      .ensurePresent()
      .catch((e: unknown) => e)) as NativeNetError & { retryable?: boolean };
    expect(err.code).toBe('ENETDOWN');
    expect(err.retryable).toBe(true);
    expect(net.addrs.has(IP)).toBe(false);
  });

  it('an add the kernel acknowledged but that is not there is a VerificationError', async () => {
    const net = new FakeNetwork();
    net.addIsNoop = true;
    await expect(clusterIp(net).ensurePresent()).rejects.toBeInstanceOf(VerificationError);
    expect(net.announced).toHaveLength(0);
  });

  it('"already there" (EEXIST, added by someone else meanwhile) is judged by the read that follows', async () => {
    const net = new FakeNetwork();
    const ip = clusterIp(net, { duplicateCheck: false });
    const add = net.addAddress.bind(net);
    net.addAddress = (dev, addr, p) => {
      net.addrs.set(addr, p); // appears just before our add
      add(dev, addr, p);
    };
    expect(await ip.ensurePresent()).toEqual({ changed: true });
    expect(net.addrs.get(IP)).toBe(24);
  });

  it('ours with the wrong prefix: deleted and added again, no probe (we are the holder)', async () => {
    const net = new FakeNetwork();
    net.addrs.set(IP, 32);
    expect(await clusterIp(net).ensurePresent()).toEqual({ changed: true });
    expect(net.calls).toContain(`del ${IP}/32`);
    expect(net.addrs.get(IP)).toBe(24);
  });

  it('no such device: VerificationError, nothing probed', async () => {
    const net = new FakeNetwork();
    net.devExists = false;
    await expect(clusterIp(net).ensurePresent()).rejects.toThrow(/device vmbr0 does not exist/);
  });

  it('ensureAbsent stops the announcements, deletes and verifies; a second time changes nothing', async () => {
    const net = new FakeNetwork();
    const ip = clusterIp(net, { announce: { count: 5, intervalMs: 1000 } });
    await ip.ensurePresent();
    expect(await ip.ensureAbsent()).toEqual({ changed: true });
    expect(net.addrs.has(IP)).toBe(false);
    await ip.announced();
    expect(net.announced).toHaveLength(1);
    expect(await ip.ensureAbsent()).toEqual({ changed: false });
  });

  it('prepare() starts the probe ahead; ensurePresent within the age limit uses it (one probe)', async () => {
    const net = new FakeNetwork();
    const ip = clusterIp(net);
    ip.prepare();
    await ip.ensurePresent();
    expect(net.calls.filter((c) => c.startsWith('probe'))).toHaveLength(1);
  });

  it('a failing background ARP reaches onAnnounceFailed and the next ensurePresent announces again', async () => {
    const net = new FakeNetwork();
    net.announceFailAfter = 2;
    const failures: Error[] = [];
    const ip = clusterIp(net, { onAnnounceFailed: (e) => failures.push(e) });
    await ip.ensurePresent();
    await ip.announced();
    await vi.waitFor(() => expect(failures).toHaveLength(1));
    expect((failures[0] as NativeNetError).code).toBe('ENETDOWN');
    net.announceFailAfter = Infinity;
    expect(await ip.ensurePresent()).toEqual({ changed: false });
    expect(net.announced.length).toBeGreaterThan(2);
  });
});

describe('startNativeAnnouncement', () => {
  it('sends the first at once and the rest intervalMs apart; reply mode as configured', async () => {
    const net = new FakeNetwork();
    const sent: number[] = [];
    const a = startNativeAnnouncement(net, { dev: 'vmbr0', ip: IP, count: 3, intervalMs: 30, mode: 'reply', onArpSent: (s) => sent.push(s.index) });
    expect(net.announced).toHaveLength(1); // synchronously, before firstSent is even awaited
    await a.firstSent;
    expect(await a.done).toEqual({ sent: 3, aborted: false });
    expect(sent).toEqual([0, 1, 2]);
    expect(net.announced.every((x) => x.mode === 'reply')).toBe(true);
    // Timers never fire early; a loaded machine only makes the gaps longer.
    expect(net.announced[2]!.at - net.announced[0]!.at).toBeGreaterThanOrEqual(59);
  });

  it('abort stops what is not sent yet', async () => {
    const net = new FakeNetwork();
    const a = startNativeAnnouncement(net, { dev: 'vmbr0', ip: IP, count: 5, intervalMs: 10_000 });
    a.abort();
    expect(await a.done).toEqual({ sent: 1, aborted: true });
  });

  it('a first ARP that cannot be sent rejects firstSent', async () => {
    const net = new FakeNetwork();
    net.announceFailAfter = 0;
    const a = startNativeAnnouncement(net, { dev: 'vmbr0', ip: IP });
    await expect(a.firstSent).rejects.toThrow(/ENETDOWN/);
    expect((await a.done).sent).toBe(0);
  });
});

const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;
const IFF_LOWER_UP = 0x10000;
const CARRYING = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;

/** A fake of the addon's two classes, recording what they were asked. */
function fakeNative(answer: { holders?: string[]; throwCode?: string; error?: string; linkFlags?: Array<number | undefined> } = {}) {
  const made = { nets: 0, closed: 0, linkReads: 0, probes: [] as Array<{ dev: string; ip: string; windowMs: number; cancelled: boolean }> };
  class Net implements NativeNet {
    constructor() {
      made.nets++;
    }
    addresses = () => ({ ifindex: 1, mac: MAC, addresses: [] });
    // One value per read, in order (the last repeats); default up, carrier, running.
    linkFlags = () => {
      const flags = answer.linkFlags ?? [CARRYING];
      return flags[Math.min(made.linkReads++, flags.length - 1)];
    };
    addAddress = () => undefined;
    deleteAddress = () => undefined;
    announce = () => undefined;
    close = () => {
      made.closed++;
    };
  }
  const ArpProbe: NativeArpProbeClass = class {
    private readonly record: (typeof made.probes)[number];
    constructor(dev: string, ip: string, windowMs: number, done: (error: NativeNetError | null, holders?: string[]) => void) {
      if (answer.throwCode) throw sysError(answer.throwCode, `send ARP probe on ${dev}`);
      this.record = { dev, ip, windowMs, cancelled: false };
      made.probes.push(this.record);
      const t = setTimeout(() => (answer.error ? done(sysError(answer.error, 'ARP probe')) : done(null, answer.holders ?? [])), 5);
      this.cancel = () => {
        this.record.cancelled = true;
        clearTimeout(t);
      };
    }
    cancel(): void {}
  };
  return { classes: { Net, ArpProbe }, made };
}

describe('NativeNetwork over the addon classes', () => {
  it('opens the addon Net once, on first use, and again after close', () => {
    const { classes, made } = fakeNative();
    const n = new NativeNetwork(classes);
    expect(made.nets).toBe(0);
    n.addresses('vmbr0');
    n.addAddress('vmbr0', IP, 24);
    expect(made.nets).toBe(1);
    n.close();
    expect(made.closed).toBe(1);
    n.announce('vmbr0', IP, 'request');
    expect(made.nets).toBe(2);
  });

  it('probe: the holders the native probe reports; its window is passed through', async () => {
    const { classes, made } = fakeNative({ holders: ['de:ad:be:ef:00:01'] });
    expect(await new NativeNetwork(classes).probe('vmbr0', IP, 7)).toEqual(['de:ad:be:ef:00:01']);
    expect(made.probes[0]).toMatchObject({ dev: 'vmbr0', ip: IP, windowMs: 7 });
  });

  it('probe: an abort cancels the native probe and rejects (retryable), never "free"', async () => {
    const { classes, made } = fakeNative();
    const stop = new AbortController();
    const p = new NativeNetwork(classes).probe('vmbr0', IP, 10, stop.signal);
    stop.abort();
    await expect(p).rejects.toMatchObject({ retryable: true });
    expect(made.probes[0]!.cancelled).toBe(true);
  });

  it('probe: a constructor that throws (no device, link down) and a failed listen both reject', async () => {
    await expect(new NativeNetwork(fakeNative({ throwCode: 'ENODEV' }).classes).probe('vmbr0', IP, 10)).rejects.toMatchObject({ code: 'ENODEV' });
    await expect(new NativeNetwork(fakeNative({ error: 'EIO' }).classes).probe('vmbr0', IP, 10)).rejects.toMatchObject({ code: 'EIO' });
  });

  it('probe: a link that does not carry frames yet (up, carrier, not RUNNING) is ENETDOWN before any probe is sent', async () => {
    const { classes, made } = fakeNative({ linkFlags: [IFF_UP | IFF_LOWER_UP] });
    await expect(new NativeNetwork(classes).probe('vmbr0', IP, 10)).rejects.toMatchObject({ code: 'ENETDOWN', message: expect.stringMatching(/vmbr0.*not RUNNING/) });
    expect(made.probes).toEqual([]);
    const gone = fakeNative({ linkFlags: [undefined] });
    await expect(new NativeNetwork(gone.classes).probe('vmbr0', IP, 10)).rejects.toMatchObject({ code: 'ENODEV' });
    expect(gone.made.probes).toEqual([]);
  });

  it('probe: silence from a link that lost its carrier during the window is ENETDOWN, never "free"; a claim still counts', async () => {
    const silent = fakeNative({ linkFlags: [CARRYING, IFF_UP | IFF_RUNNING] });
    await expect(new NativeNetwork(silent.classes).probe('vmbr0', IP, 10)).rejects.toMatchObject({ code: 'ENETDOWN', message: expect.stringMatching(/not LOWER_UP/) });
    expect(silent.made.probes).toHaveLength(1);
    const claimed = fakeNative({ holders: ['de:ad:be:ef:00:01'], linkFlags: [CARRYING, IFF_UP] });
    expect(await new NativeNetwork(claimed.classes).probe('vmbr0', IP, 10)).toEqual(['de:ad:be:ef:00:01']);
    const free = fakeNative();
    expect(await new NativeNetwork(free.classes).probe('vmbr0', IP, 10)).toEqual([]);
    expect(free.made.linkReads).toBe(2);
  });

  it('probeAddressFree: free resolves; a holder is a DuplicateAddressError; an error is retryable', async () => {
    const free = new NativeNetwork(fakeNative().classes);
    await expect(probeAddressFree(free, { dev: 'vmbr0', ip: IP, windowMs: 10 })).resolves.toBeUndefined();
    const held = new NativeNetwork(fakeNative({ holders: ['de:ad:be:ef:00:01'] }).classes);
    await expect(probeAddressFree(held, { dev: 'vmbr0', ip: IP, windowMs: 10 })).rejects.toBeInstanceOf(DuplicateAddressError);
    const broken = new NativeNetwork(fakeNative({ error: 'EIO' }).classes);
    await expect(probeAddressFree(broken, { dev: 'vmbr0', ip: IP, windowMs: 10 })).rejects.toMatchObject({ code: 'EIO', retryable: true });
  });
});
