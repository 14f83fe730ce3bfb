// The parsers the benchmarks read their measurements with: a wrong parse would put wrong
// numbers into BENCHMARKS.md, so each is checked against real output of the tool.
import { describe, expect, it } from 'vitest';
import { parseInstrumentOutput } from '../../../bench/cost/instrument';
import { parseSmaps } from '../../../bench/lib/proc-usage';
import { parseStraceSummary } from '../../../bench/cost/strace-count';
import { parseArpLine, parseIpMonitor, pingParser } from '../../../bench/failover/watchers';
import { changeKey, formatQuorumLine, parseQuorumLine } from '../../../bench/lib/quorum-line';

describe('benchmark parsers', () => {
  it('quorum probe lines round-trip, and the change key ignores member order', () => {
    const s = { monoNs: 123456789012n, realNs: 1795317881559378000n, quorate: true, ringNodeId: 1, ringSeq: 45, members: [3, 1, 2] };
    expect(parseQuorumLine(formatQuorumLine(s))).toEqual(s);
    expect(parseQuorumLine('ready')).toBe('ready');
    expect(parseQuorumLine('quorum 1 2 0 1 9 ')).toMatchObject({ quorate: false, members: [] });
    expect(changeKey(s)).toBe(changeKey({ ...s, members: [1, 2, 3], monoNs: 5n }));
    expect(() => parseQuorumLine('quorum x')).toThrow(/unexpected output line/);
  });

  it('ping -D replies from the watched address only', () => {
    const parse = pingParser('198.18.0.100');
    expect(parse('[1795317881.559378] 64 bytes from 198.18.0.100: icmp_seq=12 ttl=64 time=0.061 ms')).toEqual({ atMs: 1795317881559.378, seq: 12 });
    expect(parse('[1795317881.559378] 64 bytes from 198.18.0.1: icmp_seq=12 ttl=64 time=0.061 ms')).toBeNull();
    expect(parse('PING 198.18.0.100 (198.18.0.100) 56(84) bytes of data.')).toBeNull();
  });

  it("the listener instrument's lines and V8's --trace-gc lines in a daemon's output", () => {
    const memory = { kind: 'memory', atMs: 1795326147293, rss: 72e6, heapUsed: 7.2e6, heapTotal: 9e6, external: 2e6, arrayBuffers: 2e4, codeAndMetadata: 1.5e6, bytecodeAndMetadata: 1e6 };
    const out = parseInstrumentOutput(
      [
        '[5977:0x3009c5e0]       44 ms: Scavenge 4.6 (4.7) -> 4.1 (5.7) MB, 1.21 / 0.00 ms  (average mu = 1.000, current mu = 1.000) allocation failure; ',
        'bench-instrument {"kind":"gc-origin","timeOriginMs":1795326100000.5}',
        '[5977:0x3009c5e0]     8289 ms: Mark-Compact (reduce) 9.2 (15.7) -> 6.3 (8.7) MB, 4.33 / 0.02 ms  (+ 2.2 ms in 27 steps since start of marking, biggest step 0.1 ms) (average mu = 0.998, current mu = 0.997) finalize incremental marking via task; GC in old space requested',
        'corolistener: some line of the daemon',
        `bench-instrument ${JSON.stringify(memory)}`,
        '',
      ].join('\n'),
    );
    // A GC line before the origin is known cannot be placed in time: left out.
    expect(out.gcs).toEqual([{ atMs: 1795326108289.5, kind: 'Mark-Compact (reduce)' }]);
    expect(out.memory).toEqual([memory]);
  });

  it('/proc/PID/smaps resident memory by kind: corosync IPC rings, anonymous, files', () => {
    const smaps = [
      '00400000-02a14000 r-xp 00000000 00:1f 123                             /usr/bin/node',
      'Size:              39000 kB',
      'Rss:               20000 kB',
      '7fc3944e1000-7fc3945e2000 rw-s 00000000 00:1b 1420892                    /dev/shm/qb-7611-7870-32-x5xdJ6/qb-event-quorum-data',
      'Size:               1028 kB',
      'Rss:                  64 kB',
      'SwapPss:               0 kB',
      '7fc3945e2000-7fc3946e3000 rw-s 00000000 00:1b 1420892                    /dev/shm/qb-7611-7870-32-x5xdJ6/qb-event-quorum-data (deleted)',
      'Size:               1028 kB',
      'Rss:                   8 kB',
      '3e03e9100000-3e03e9140000 rw-p 00000000 00:00 0 ',
      'Size:                256 kB',
      'Rss:                 256 kB',
      '16819000-16acb000 rw-p 00000000 00:00 0                                  [heap]',
      'Size:               2760 kB',
      'Rss:                2000 kB',
    ].join('\n');
    expect(parseSmaps(smaps)).toEqual({ ipcKiB: 72, ipcMappedKiB: 2056, anonKiB: 2256, fileKiB: 20000 });
  });

  it('arp-watch lines', () => {
    expect(parseArpLine('arp 1795317881559378123 99 1 ce:e4:c9:c3:98:31 198.18.0.100')).toEqual({ atMs: 1795317881559.378, mac: 'ce:e4:c9:c3:98:31', ip: '198.18.0.100' });
    expect(parseArpLine('ready')).toBe('ready');
    expect(() => parseArpLine('garbage')).toThrow(/arp-watch/);
  });

  it('ip -ts -o monitor address lines (UTC), additions and deletions', () => {
    expect(parseIpMonitor('[2026-11-22T03:19:31.932252] 1: lo    inet 198.18.0.77/24 scope global lo\\       valid_lft forever preferred_lft forever')).toEqual({
      atMs: Date.UTC(2026, 10, 22, 3, 19, 31, 932) + 0.252,
      added: true,
      dev: 'lo',
      address: '198.18.0.77/24',
    });
    expect(parseIpMonitor('[2026-11-22T03:19:31.942142] Deleted 1: lo    inet 198.18.0.77/24 scope global lo\\')).toMatchObject({ added: false });
    expect(parseIpMonitor('[2026-11-22T03:19:31.922056] 1: lo    inet6 ::1/128 scope host \\')).toBeNull();
  });

  it('strace -c summaries, with and without errors, and an empty one', () => {
    const out = [
      '% time     seconds  usecs/call     calls    errors syscall',
      '------ ----------- ----------- --------- --------- ----------------',
      ' 90.00    0.000128           3        40           epoll_pwait',
      ' 10.00    0.000010           1         7         2 futex',
      '------ ----------- ----------- --------- --------- ----------------',
      '100.00    0.000138           2        47         2 total',
    ].join('\n');
    const c = parseStraceSummary(out);
    expect(c.total).toBe(47);
    expect([...c.bySyscall]).toEqual([
      ['epoll_pwait', 40],
      ['futex', 7],
    ]);
    expect(parseStraceSummary('')).toEqual({ total: 0, bySyscall: new Map() });
    expect(() => parseStraceSummary('strace: attach: ptrace(PTRACE_SEIZE, 1): Operation not permitted')).toThrow(/no summary/);
  });
});
