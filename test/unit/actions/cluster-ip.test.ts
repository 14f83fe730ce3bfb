import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { announceArgv, DuplicateAddressError, parseArpingReplies, parseProbesSent } from '../../../src/actions/arping';
import { ClusterIp, localClusterIpStatus, PREPARED_CHECK_MAX_AGE_MS } from '../../../src/actions/cluster-ip';
import { CommandFailedError, type CommandRunner, type RunOptions } from '../../../src/actions/command-runner';
import { IpOutputError, parseIpAddrJson } from '../../../src/actions/ip-addr';
import { fakeIpBatch, FakeRunner, type FakeAnswer } from './fake-runner';

/** How the simulated `arping -D` behaves (iputils 20221126, as observed in a netns pair). */
type DadMode =
  | 'normal' // banner streams; a holder answers at once (exit 1), else it runs until we stop it
  | 'killedEarly' // our stop lands before arping set up its SIGTERM handler: killed, no output
  | 'noBanner' // the banner never streams (no line buffering): arping's own 1 s deadline ends it
  | 'noProbe' // exits 0 without having sent a probe
  | 'slowExit'; // prints its summary when stopped, then takes 20 s to exit (a packet socket's close can be slow)

const banner = (ip: string) => `ARPING ${ip} from 0.0.0.0 vmbr0\n`;
const summary = (received: number) => `Sent 1 probes (1 broadcast(s))\nReceived ${received} response(s)\n`;

/** Resolves when the signal aborts (the caller stopping the command). */
const aborted = (signal: AbortSignal | undefined) => new Promise<void>((resolve) => (signal?.aborted ? resolve() : signal?.addEventListener('abort', () => resolve(), { once: true })));

/** A simulated host: one device, its addresses, and other hosts answering ARP. */
class FakeHost {
  devExists = true;
  addrs = new Map<string, number>([['198.18.0.11', 24]]);
  otherHolders: string[] = [];
  failArping = false;
  dadMode: DadMode = 'normal';
  /** Gratuitous ARPs after this many fail (exit 2). */
  announceFailAfter = Infinity;
  announced = 0;
  /** When set, `ip addr add` pretends success but does nothing (to test verification). */
  addIsNoop = false;
  /** Time the last `arping -D` waited for our stop after its banner. */
  dadStoppedAfterMs: number | undefined;
  /** `arping -D` runs so far. */
  dadRuns = 0;
  /** The lines of every `ip -batch` run. */
  readonly batches: string[][] = [];
  readonly runner = new FakeRunner((argv, options) => this.answer(argv, options));

  private async answer(argv: string[], options: RunOptions): Promise<FakeAnswer> {
    const cmd = argv.join(' ');
    if (cmd === 'ip -j addr show dev vmbr0') {
      if (!this.devExists) return { exitCode: 1, stderr: 'Device "vmbr0" does not exist.\n' };
      return { stdout: this.showJson() };
    }
    if (cmd === 'ip -j -batch -') return this.batch(options.input ?? '');
    if (cmd.startsWith('stdbuf -oL arping -D ')) return this.dad(argv.at(-1)!, options);
    if (cmd.startsWith('stdbuf -oL arping -D ')) return this.dad(argv.at(-1)!, options);
    if (argv[0] === 'arping') {
      this.announced++;
      return this.failArping || this.announced > this.announceFailAfter ? { exitCode: 2, stderr: 'arping: boom\n' } : {};
    }
    return { exitCode: 127, stderr: `unexpected command ${cmd}` };
  }

  private showJson(): string {
    const addr_info = [...this.addrs].map(([local, prefixlen]) => ({ family: 'inet', local, prefixlen, scope: 'global' }));
    return JSON.stringify([{ ifindex: 3, ifname: 'vmbr0', flags: ['UP'], address: 'AA:BB:CC:00:00:11', addr_info }]);
  }

  private batch(input: string): FakeAnswer {
    this.batches.push(input.trimEnd().split('\n'));
    if (!this.devExists) return { exitCode: 1, stderr: 'Cannot find device "vmbr0"\nCommand failed -:1\n' };
    return fakeIpBatch(input, this.addrs, () => this.showJson(), { addIsNoop: this.addIsNoop });
  }

  private async dad(ip: string, options: RunOptions): Promise<FakeAnswer> {
    this.dadRuns++;
    if (this.failArping) return { exitCode: 2, stderr: 'arping: Device vmbr0 not available.\n' };
    if (this.dadMode === 'noBanner') return { exitCode: 0, stdout: banner(ip) + summary(0) };
    if (this.dadMode === 'noProbe') return { exitCode: 0, stdout: 'Interface "vmbr0" is not ARPable\n' };
    options.onStdout?.(Buffer.from(banner(ip)));
    if (this.otherHolders.length > 0) {
      const replies = this.otherHolders.map((m) => `Unicast reply from ${ip} [${m.toUpperCase()}]  0.559ms\n`).join('');
      return { exitCode: 1, stdout: banner(ip) + replies + summary(this.otherHolders.length) };
    }
    const t0 = performance.now();
    await aborted(options.signal);
    this.dadStoppedAfterMs = performance.now() - t0;
    if (this.dadMode === 'killedEarly') return { exitCode: null, signal: 'SIGTERM', aborted: true };
    if (this.dadMode === 'slowExit') {
      options.onStdout?.(Buffer.from(summary(0)));
      await sleep(20_000);
    }
    return { exitCode: 0, aborted: true, stdout: banner(ip) + summary(0) };
  }

  get announcements(): string[] {
    return this.runner.commands.filter((c) => c.startsWith('arping -U') || c.startsWith('arping -A'));
  }
}

const IP = '198.18.0.100';
const opts = (host: FakeHost, extra: Partial<ConstructorParameters<typeof ClusterIp>[0]> = {}) =>
  new ClusterIp({ runner: host.runner, ip: IP, prefixLength: 24, announce: { count: 3, intervalMs: 5 }, ...extra });

const DAD = `stdbuf -oL arping -D -c 1 -w 1 -I vmbr0 198.18.0.100`;
const GARP = `arping -U -c 1 -I vmbr0 -s 198.18.0.100 198.18.0.100`;

describe('ClusterIp', () => {
  it('duplicate check, add, first gratuitous ARP, verify; the other ARPs follow in the background', async () => {
    const host = new FakeHost();
    const sent: number[] = [];
    const cip = opts(host, { onArpSent: (s) => sent.push(s.index), announce: { count: 3, intervalMs: 20 } });
    expect(await cip.ensurePresent()).toEqual({ changed: true });
    expect(host.addrs.get(IP)).toBe(24);
    // The duplicate check and the status side by side, then add + verify in one `ip -batch`, then
    // the first ARP: the step is over after it, not after all of them.
    expect(host.runner.commands).toEqual([DAD, 'ip -j addr show dev vmbr0', 'ip -j -batch -', GARP]);
    expect(host.batches).toEqual([[`addr add ${IP}/24 dev vmbr0`, 'addr show dev vmbr0']]);
    expect(sent).toEqual([0]);
    await cip.announced();
    expect(host.announcements).toEqual([GARP, GARP, GARP]);
    expect(sent).toEqual([0, 1, 2]);
  });

  it('is idempotent: present means nothing to do, not even a second announcement', async () => {
    const host = new FakeHost();
    const cip = opts(host);
    await cip.ensurePresent();
    await cip.announced();
    host.runner.calls.length = 0;
    expect(await cip.ensurePresent()).toEqual({ changed: false });
    // The duplicate check started alongside the status is stopped: the address is ours.
    expect(host.runner.commands).toEqual([DAD, 'ip -j addr show dev vmbr0']);
    expect(host.runner.calls[0].options.signal?.aborted).toBe(true);
    expect(host.batches).toHaveLength(1);
    // A fresh instance (daemon restart) holding the address does not re-add it either.
    expect(await opts(host).ensurePresent()).toEqual({ changed: false });
  });

  it('refuses to take an address another host answers for, and retrying is allowed', async () => {
    const host = new FakeHost();
    host.otherHolders = ['aa:bb:cc:00:00:22'];
    const err = await opts(host)
      .ensurePresent()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateAddressError);
    expect((err as DuplicateAddressError).holders).toEqual(['aa:bb:cc:00:00:22']);
    expect((err as DuplicateAddressError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/198\.18\.0\.100 is already in use.*aa:bb:cc:00:00:22/);
    expect(host.addrs.has(IP)).toBe(false);
    expect(host.batches).toEqual([]);
  });

  it('the duplicate check stops arping windowMs after its banner; stopped without a reply means free', async () => {
    const host = new FakeHost();
    await opts(host, { duplicateCheck: { windowMs: 40 } }).ensurePresent();
    expect(host.dadStoppedAfterMs).toBeGreaterThanOrEqual(35);
    expect(host.addrs.get(IP)).toBe(24);
    const dadCall = host.runner.calls.find((c) => c.argv.includes('-D'))!;
    expect(dadCall.options.signal?.aborted).toBe(true);
  });

  it('when the banner never streams, arping ends by its own deadline and its verdict counts', async () => {
    const host = new FakeHost();
    host.dadMode = 'noBanner';
    expect(await opts(host).ensurePresent()).toEqual({ changed: true });
  });

  it('a failed duplicate check is never taken for "free"', async () => {
    for (const setup of [
      (h: FakeHost) => (h.failArping = true), // arping error, no reply
      (h: FakeHost) => (h.dadMode = 'killedEarly'), // stopped before its handler: no verdict
      (h: FakeHost) => (h.dadMode = 'noProbe'), // exit 0 but no probe went out
    ]) {
      const host = new FakeHost();
      setup(host);
      const err = await opts(host)
        .ensurePresent()
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(DuplicateAddressError);
      expect((err as { retryable?: boolean }).retryable).toBe(true);
      expect(host.addrs.has(IP)).toBe(false);
    }
  });

  it('the caller aborting the duplicate check fails it', async () => {
    const host = new FakeHost();
    const ac = new AbortController();
    const p = opts(host, { duplicateCheck: { windowMs: 900 } }).ensurePresent(ac.signal);
    await sleep(5);
    ac.abort();
    await expect(p).rejects.toBeInstanceOf(CommandFailedError);
    expect(host.addrs.has(IP)).toBe(false);
  });

  it('the duplicate check can be disabled', async () => {
    const other = new FakeHost();
    await opts(other, { duplicateCheck: false }).ensurePresent();
    expect(other.runner.commands.some((c) => c.includes('-D'))).toBe(false);
  });

  it('replaces the address when it is present with the wrong prefix', async () => {
    const host = new FakeHost();
    host.addrs.set(IP, 32);
    expect(await opts(host).ensurePresent()).toEqual({ changed: true });
    expect(host.addrs.get(IP)).toBe(24);
    expect(host.batches).toEqual([[`addr del ${IP}/32 dev vmbr0`, `addr add ${IP}/24 dev vmbr0`, 'addr show dev vmbr0']]);
  });

  it('verifies the result before announcing: an add that did not take effect fails the step, no ARP leaves', async () => {
    const host = new FakeHost();
    host.addIsNoop = true;
    const cip = opts(host, { announce: { count: 3, intervalMs: 5 } });
    await expect(cip.ensurePresent()).rejects.toThrow(/expected present, found absent/);
    await sleep(40);
    expect(host.announcements).toHaveLength(0);
  });

  it('a failing command in the batch fails the step (ip stops there) and names what ran', async () => {
    const host = new FakeHost();
    const cip = opts(host, { duplicateCheck: false });
    // Someone else added it between our status and our add.
    const realRun = host.runner.run.bind(host.runner);
    host.runner.run = async (argv, o) => {
      if (argv.join(' ') === 'ip -j -batch -') host.addrs.set(IP, 24);
      return realRun(argv, o);
    };
    await expect(cip.ensurePresent()).rejects.toThrow(/ip -j -batch -: exited with code 1: Error: ipv4: Address already assigned/);
  });

  it("free is decided on arping's summary, without waiting for its slow exit", async () => {
    const host = new FakeHost();
    host.dadMode = 'slowExit';
    const t0 = performance.now();
    expect(await opts(host).ensurePresent()).toEqual({ changed: true });
    expect(performance.now() - t0).toBeLessThan(10_000); // the exit takes 20 s
  });

  it('prepare() runs the checks ahead; ensurePresent then uses them instead of checking again', async () => {
    const host = new FakeHost();
    const cip = opts(host);
    cip.prepare();
    cip.prepare(); // still usable: kept, not started twice
    expect(host.runner.commands).toEqual([DAD, 'ip -j addr show dev vmbr0']);
    expect(await cip.ensurePresent()).toEqual({ changed: true });
    expect(host.dadRuns).toBe(1);
    expect(host.runner.commands).toEqual([DAD, 'ip -j addr show dev vmbr0', 'ip -j -batch -', GARP]);
  });

  it('prepared checks are never used once stale: after a change of ours, or too old', async () => {
    // ensureAbsent ran after them: the status they saw is no longer true.
    const host = new FakeHost();
    host.addrs.set(IP, 24);
    const cip = opts(host, { duplicateCheck: { windowMs: 5 } });
    cip.prepare();
    await cip.ensureAbsent();
    expect(await cip.ensurePresent()).toEqual({ changed: true });
    expect(host.addrs.get(IP)).toBe(24);
    expect(host.dadRuns).toBe(2);
    expect(host.runner.calls[0].options.signal?.aborted).toBe(true); // the discarded check was stopped
    // Too old: the duplicate check is done again right before the add.
    const other = new FakeHost();
    const cip2 = opts(other, { duplicateCheck: { windowMs: 5 } });
    cip2.prepare();
    await sleep(PREPARED_CHECK_MAX_AGE_MS + 20);
    expect(await cip2.ensurePresent()).toEqual({ changed: true });
    expect(other.dadRuns).toBe(2);
  });

  it('a first ARP that cannot start fails the step', async () => {
    const host = new FakeHost();
    const runner: CommandRunner = {
      run: (argv, o) =>
        argv[1] === '-U'
          ? Promise.resolve({ argv, exitCode: null, signal: null, stdout: '', stderr: '', truncated: false, timedOut: false, aborted: false, spawnError: 'spawn arping ENOENT', durationMs: 0 })
          : host.runner.run(argv, o),
    };
    const cip = new ClusterIp({ runner, ip: IP, prefixLength: 24, duplicateCheck: false });
    const err = await cip.ensurePresent().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as CommandFailedError).retryable).toBe(false);
  });

  it('a failed background ARP is reported and the next ensurePresent announces again', async () => {
    const host = new FakeHost();
    host.announceFailAfter = 1;
    const failures: Error[] = [];
    const cip = opts(host, { duplicateCheck: false, onAnnounceFailed: (e) => failures.push(e) });
    expect(await cip.ensurePresent()).toEqual({ changed: true });
    await cip.announced();
    expect(failures).toHaveLength(1);
    expect(failures[0]).toBeInstanceOf(CommandFailedError);
    expect(failures[0].message).toMatch(/arping -U .*exited with code 2: arping: boom/);
    host.announceFailAfter = Infinity;
    host.runner.calls.length = 0;
    expect(await cip.ensurePresent()).toEqual({ changed: false });
    await cip.announced();
    expect(host.announcements).toHaveLength(3);
    expect(failures).toHaveLength(1);
    // Announced successfully now: nothing pending any more.
    host.runner.calls.length = 0;
    await cip.ensurePresent();
    expect(host.announcements).toHaveLength(0);
  });

  it('ensureAbsent stops the background announcements first: no ARP for an address we gave up', async () => {
    const host = new FakeHost();
    const failures: Error[] = [];
    const cip = opts(host, { duplicateCheck: false, announce: { count: 5, intervalMs: 30 }, onAnnounceFailed: (e) => failures.push(e) });
    await cip.ensurePresent();
    expect(host.announcements).toHaveLength(1);
    expect(await cip.ensureAbsent()).toEqual({ changed: true });
    await sleep(200);
    expect(host.announcements).toHaveLength(1);
    expect(failures).toEqual([]);
    await cip.announced(); // nothing left to wait for
  });

  it('spaces the announcements by intervalMs and supports ARP reply mode', async () => {
    const host = new FakeHost();
    const times: number[] = [];
    const cip = opts(host, { duplicateCheck: false, announce: { count: 3, intervalMs: 60, mode: 'reply' }, onArpSent: (s) => times.push(s.at) });
    await cip.ensurePresent();
    await cip.announced();
    expect(times).toHaveLength(3);
    expect(times[1] - times[0]).toBeGreaterThanOrEqual(55);
    expect(times[2] - times[1]).toBeGreaterThanOrEqual(55);
    expect(host.runner.commands.at(-1)).toBe(`arping -A -c 1 -I vmbr0 -s ${IP} ${IP}`);
  });

  it('removes the address (with the prefix it has), verifies, and is idempotent', async () => {
    const host = new FakeHost();
    host.addrs.set(IP, 16);
    const cip = opts(host);
    expect(await cip.ensureAbsent()).toEqual({ changed: true });
    expect(host.addrs.has(IP)).toBe(false);
    expect(host.addrs.has('198.18.0.11')).toBe(true);
    expect(host.runner.commands).toEqual(['ip -j addr show dev vmbr0', 'ip -j -batch -']);
    expect(host.batches).toEqual([[`addr del ${IP}/16 dev vmbr0`, 'addr show dev vmbr0']]);
    host.runner.calls.length = 0;
    expect(await cip.ensureAbsent()).toEqual({ changed: false });
    expect(host.runner.commands).toEqual(['ip -j addr show dev vmbr0']);
  });

  it('a missing device: absent is fine, present is an error', async () => {
    const host = new FakeHost();
    host.devExists = false;
    expect(await opts(host).ensureAbsent()).toEqual({ changed: false });
    await expect(opts(host).ensurePresent()).rejects.toThrow(/device vmbr0 does not exist/);
  });

  it('localStatus answers status() without running ip; an undefined answer falls back to ip', async () => {
    const host = new FakeHost();
    let answer: { deviceExists: boolean; present: boolean; prefixLength?: number } | undefined = { deviceExists: true, present: true, prefixLength: 24 };
    const cip = opts(host, { localStatus: () => answer });
    expect(await cip.ensurePresent()).toEqual({ changed: false });
    expect(host.runner.commands.filter((c) => c.startsWith('ip '))).toEqual([]);
    answer = undefined;
    expect((await cip.status()).present).toBe(false);
    expect(host.runner.commands.at(-1)).toBe('ip -j addr show dev vmbr0');
  });

  it("localClusterIpStatus reads this process's interfaces (loopback here) and leaves unknown devices to ip", () => {
    expect(localClusterIpStatus('lo', '127.0.0.1')).toMatchObject({ deviceExists: true, present: true, prefixLength: 8 });
    expect(localClusterIpStatus('lo', '198.18.0.100')).toMatchObject({ deviceExists: true, present: false });
    expect(localClusterIpStatus('no-such-dev0', '127.0.0.1')).toBeUndefined();
  });

  it('rejects invalid settings up front', () => {
    const runner = new FakeRunner();
    expect(() => new ClusterIp({ runner, ip: '198.18.0.300', prefixLength: 24 })).toThrow(/not an IPv4/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 33 })).toThrow(/0..32/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 24, dev: 'a b' })).toThrow(/device name/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 24, duplicateCheck: { windowMs: 0 } })).toThrow(/windowMs must be 1..999, got 0/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 24, duplicateCheck: { windowMs: 5000 } })).toThrow(/windowMs/);
  });
});

describe('parsers', () => {
  it('parseIpAddrJson reads real iproute2 output and rejects the unexpected', () => {
    const real =
      '[{"ifindex":2,"link_index":2,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"address":"fa:28:e4:64:f5:3f","addr_info":[{"family":"inet","local":"198.18.0.1","prefixlen":24,"scope":"global"},{"family":"inet","local":"198.18.0.100","prefixlen":24,"secondary":true},{"family":"inet6","local":"fe80::1","prefixlen":64}]}]';
    const [link] = parseIpAddrJson(real, 'ip -j addr show dev eth0');
    expect(link.mac).toBe('fa:28:e4:64:f5:3f');
    expect(link.addresses.map((a) => `${a.local}/${a.prefixlen}`)).toEqual(['198.18.0.1/24', '198.18.0.100/24', 'fe80::1/64']);
    expect(() => parseIpAddrJson('Device not found', 'ip -j addr show dev x')).toThrow(IpOutputError);
    expect(() => parseIpAddrJson('[{"ifname":"x","addr_info":[{"family":"inet"}]}]', 'ip -j addr show dev x')).toThrow(/ip -j addr show dev x: x: addr_info\[0\]/);
  });

  it('parseArpingReplies extracts the answering MACs', () => {
    const out =
      'ARPING 198.18.0.100 from 0.0.0.0 eth0\nUnicast reply from 198.18.0.100 [FA:28:E4:64:F5:3F]  0.559ms\nUnicast reply from 198.18.0.100 [FA:28:E4:64:F5:3F]  0.600ms\nSent 2 probes (1 broadcast(s))\nReceived 2 response(s)\n';
    expect(parseArpingReplies(out)).toEqual(['fa:28:e4:64:f5:3f']);
    expect(parseArpingReplies('Sent 2 probes\nReceived 0 response(s)\n')).toEqual([]);
    expect(parseProbesSent(out)).toBe(2);
    expect(parseProbesSent('Interface "vmbr0" is not ARPable\n')).toBeUndefined();
    expect(announceArgv('vmbr0', IP)).toEqual(['arping', '-U', '-c', '1', '-I', 'vmbr0', '-s', IP, IP]);
  });
});
