import { describe, expect, it } from 'vitest';
import { announceArgv, DuplicateAddressError, parseArpingReplies } from '../../../src/actions/arping';
import { ClusterIp, VerificationError } from '../../../src/actions/cluster-ip';
import { CommandFailedError } from '../../../src/actions/command-runner';
import { IpOutputError, parseIpAddrJson } from '../../../src/actions/ip-addr';
import { FakeRunner, type FakeAnswer } from './fake-runner';

/** A simulated host: one device, its addresses, and other hosts answering ARP. */
class FakeHost {
  devExists = true;
  addrs = new Map<string, number>([['198.18.0.11', 24]]);
  otherHolders: string[] = [];
  failArping = false;
  /** When set, `ip addr add` pretends success but does nothing (to test verification). */
  addIsNoop = false;
  readonly runner = new FakeRunner((argv) => this.answer(argv));

  private answer(argv: string[]): FakeAnswer {
    const cmd = argv.join(' ');
    if (cmd === 'ip -j addr show dev vmbr0') {
      if (!this.devExists) return { exitCode: 1, stderr: 'Device "vmbr0" does not exist.\n' };
      const addr_info = [...this.addrs].map(([local, prefixlen]) => ({ family: 'inet', local, prefixlen, scope: 'global' }));
      return { stdout: JSON.stringify([{ ifindex: 3, ifname: 'vmbr0', flags: ['UP'], address: 'AA:BB:CC:00:00:11', addr_info }]) };
    }
    const add = /^ip addr add ([\d.]+)\/(\d+) dev vmbr0$/.exec(cmd);
    if (add) {
      if (this.addrs.has(add[1])) return { exitCode: 2, stderr: 'RTNETLINK answers: File exists\n' };
      if (!this.addIsNoop) this.addrs.set(add[1], Number(add[2]));
      return {};
    }
    const del = /^ip addr del ([\d.]+)\/(\d+) dev vmbr0$/.exec(cmd);
    if (del) {
      if (this.addrs.get(del[1]) !== Number(del[2])) return { exitCode: 2, stderr: 'RTNETLINK answers: Cannot assign requested address\n' };
      this.addrs.delete(del[1]);
      return {};
    }
    if (argv[0] === 'arping' && argv[1] === '-D') {
      if (this.failArping) return { exitCode: 2, stderr: 'arping: Device vmbr0 not available.\n' };
      const replies = this.otherHolders.map((m) => `Unicast reply from ${argv.at(-1)} [${m.toUpperCase()}]  0.559ms\n`).join('');
      return { exitCode: replies ? 1 : 0, stdout: `ARPING ${argv.at(-1)} from 0.0.0.0 vmbr0\n${replies}` };
    }
    if (argv[0] === 'arping') return this.failArping ? { exitCode: 2, stderr: 'arping: boom\n' } : {};
    return { exitCode: 127, stderr: `unexpected command ${cmd}` };
  }
}

const IP = '198.18.0.100';
const opts = (host: FakeHost, extra: Partial<ConstructorParameters<typeof ClusterIp>[0]> = {}) =>
  new ClusterIp({ runner: host.runner, ip: IP, prefixLength: 24, announce: { count: 3, intervalMs: 5 }, ...extra });

describe('ClusterIp', () => {
  it('adds an absent address after the duplicate check, verifies it, then announces it', async () => {
    const host = new FakeHost();
    const sent: number[] = [];
    const cip = opts(host, { onArpSent: (s) => sent.push(s.index) });
    expect(await cip.ensurePresent()).toEqual({ changed: true });
    expect(host.addrs.get(IP)).toBe(24);
    expect(host.runner.commands).toEqual([
      'ip -j addr show dev vmbr0',
      `arping -D -c 2 -w 1 -I vmbr0 ${IP}`,
      `ip addr add ${IP}/24 dev vmbr0`,
      'ip -j addr show dev vmbr0',
      `arping -U -c 1 -I vmbr0 -s ${IP} ${IP}`,
      `arping -U -c 1 -I vmbr0 -s ${IP} ${IP}`,
      `arping -U -c 1 -I vmbr0 -s ${IP} ${IP}`,
    ]);
    expect(sent).toEqual([0, 1, 2]);
  });

  it('is idempotent: present means nothing to do, not even a second announcement', async () => {
    const host = new FakeHost();
    const cip = opts(host);
    await cip.ensurePresent();
    host.runner.calls.length = 0;
    expect(await cip.ensurePresent()).toEqual({ changed: false });
    expect(host.runner.commands).toEqual(['ip -j addr show dev vmbr0']);
    // A fresh instance (daemon restart) holding the address does not re-add it either.
    expect(await opts(host).ensurePresent()).toEqual({ changed: false });
  });

  it('refuses to take an address another host answers for, and retrying is allowed', async () => {
    const host = new FakeHost();
    host.otherHolders = ['aa:bb:cc:00:00:22'];
    const err = await opts(host).ensurePresent().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicateAddressError);
    expect((err as DuplicateAddressError).holders).toEqual(['aa:bb:cc:00:00:22']);
    expect((err as DuplicateAddressError).retryable).toBe(true);
    expect((err as Error).message).toMatch(/198\.18\.0\.100 is already in use.*aa:bb:cc:00:00:22/);
    expect(host.addrs.has(IP)).toBe(false);
    expect(host.runner.commands.some((c) => c.startsWith('ip addr add'))).toBe(false);
  });

  it('a failed duplicate check (arping error, no reply) fails instead of assuming the address is free', async () => {
    const host = new FakeHost();
    host.failArping = true;
    await expect(opts(host).ensurePresent()).rejects.toBeInstanceOf(CommandFailedError);
    expect(host.addrs.has(IP)).toBe(false);
  });

  it('the duplicate check can be tuned or disabled', async () => {
    const host = new FakeHost();
    await opts(host, { duplicateCheck: { count: 3, timeoutSeconds: 2 } }).ensurePresent();
    expect(host.runner.commands[1]).toBe(`arping -D -c 3 -w 2 -I vmbr0 ${IP}`);
    const other = new FakeHost();
    await opts(other, { duplicateCheck: false }).ensurePresent();
    expect(other.runner.commands.some((c) => c.includes('-D'))).toBe(false);
  });

  it('replaces the address when it is present with the wrong prefix', async () => {
    const host = new FakeHost();
    host.addrs.set(IP, 32);
    expect(await opts(host).ensurePresent()).toEqual({ changed: true });
    expect(host.addrs.get(IP)).toBe(24);
    expect(host.runner.commands.slice(1, 3)).toEqual([`ip addr del ${IP}/32 dev vmbr0`, `ip addr add ${IP}/24 dev vmbr0`]);
  });

  it('verifies the result: an add that did not take effect is an error', async () => {
    const host = new FakeHost();
    host.addIsNoop = true;
    await expect(opts(host).ensurePresent()).rejects.toThrow(VerificationError);
    expect(host.runner.commands.some((c) => c.startsWith('arping -U'))).toBe(false);
  });

  it('a failed announcement is repeated by the next ensurePresent even though the address is there', async () => {
    const h2 = new FakeHost();
    const c2 = opts(h2, { duplicateCheck: false });
    h2.failArping = true;
    await expect(c2.ensurePresent()).rejects.toBeInstanceOf(CommandFailedError);
    expect(h2.addrs.has(IP)).toBe(true);
    h2.failArping = false;
    h2.runner.calls.length = 0;
    expect(await c2.ensurePresent()).toEqual({ changed: false });
    expect(h2.runner.commands.filter((c) => c.startsWith('arping -U'))).toHaveLength(3);
  });

  it('spaces the announcements by intervalMs and supports ARP reply mode', async () => {
    const host = new FakeHost();
    const times: number[] = [];
    await opts(host, { duplicateCheck: false, announce: { count: 3, intervalMs: 60, mode: 'reply' }, onArpSent: (s) => times.push(s.at) }).ensurePresent();
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
    expect(host.runner.commands).toEqual(['ip -j addr show dev vmbr0', `ip addr del ${IP}/16 dev vmbr0`, 'ip -j addr show dev vmbr0']);
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

  it('rejects invalid settings up front', () => {
    const runner = new FakeRunner();
    expect(() => new ClusterIp({ runner, ip: '198.18.0.300', prefixLength: 24 })).toThrow(/not an IPv4/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 33 })).toThrow(/0..32/);
    expect(() => new ClusterIp({ runner, ip: IP, prefixLength: 24, dev: 'a b' })).toThrow(/device name/);
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
    const out = 'ARPING 198.18.0.100 from 0.0.0.0 eth0\nUnicast reply from 198.18.0.100 [FA:28:E4:64:F5:3F]  0.559ms\nUnicast reply from 198.18.0.100 [FA:28:E4:64:F5:3F]  0.600ms\nSent 2 probes (1 broadcast(s))\nReceived 2 response(s)\n';
    expect(parseArpingReplies(out)).toEqual(['fa:28:e4:64:f5:3f']);
    expect(parseArpingReplies('Sent 2 probes\nReceived 0 response(s)\n')).toEqual([]);
    expect(announceArgv('vmbr0', IP)).toEqual(['arping', '-U', '-c', '1', '-I', 'vmbr0', '-s', IP, IP]);
  });
});
