// The daemon's side of self-fencing (src/daemon/fencing-feeder.ts): it feeds the watchdog only
// while the engine says the node is safe and corosync answers a round trip; a clean stop disarms.
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { WatchdogPort } from '../../../src/actions/watchdog';
import { FencingFeeder, fencingEvent } from '../../../src/daemon/fencing-feeder';
import type { FenceSafety } from '../../../src/engine';
import type { Clock } from '../../../src/daemon/ports';

class FakeDevice implements WatchdogPort {
  readonly path = '/dev/watchdog';
  writes: string[] = [];
  opened = false;
  failFeed = false;
  open(): void {
    this.opened = true;
  }
  feed(): void {
    if (this.failFeed) throw new Error('cannot feed the watchdog /dev/watchdog: EAGAIN');
    this.writes.push('1');
  }
  disarm(): void {
    this.writes.push('V');
    this.opened = false;
  }
}

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 1_000_000;
  let timers: Array<{ at: number; fn: () => void; h: number }> = [];
  let h = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      timers.push({ at: now + ms, fn, h: ++h });
      return h;
    },
    clearTimeout: (handle) => {
      timers = timers.filter((t) => t.h !== handle);
    },
    advance(ms) {
      const until = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const t = timers[0];
        if (t === undefined || t.at > until) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = until;
    },
  };
}

function harness(device: FakeDevice | null) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'debug' }, { write: (l: string) => lines.push(JSON.parse(l) as Record<string, unknown>) });
  const clock = manualClock();
  let safety: FenceSafety | undefined = { safe: true, why: 'quorate' };
  let corosyncUp = true;
  const feeder = new FencingFeeder({
    device,
    timeoutMs: 10_000,
    clock,
    logger,
    safety: () => safety,
    roundTrip: () => {
      if (!corosyncUp) throw new Error('not connected to corosync');
    },
  });
  return { feeder, clock, lines, setSafety: (s: FenceSafety | undefined) => (safety = s), setCorosync: (up: boolean) => (corosyncUp = up) };
}

describe('FencingFeeder', () => {
  it('feeds several times per timeout while safe, stops at once when not, and says so once', () => {
    const device = new FakeDevice();
    const h = harness(device);
    h.feeder.start();
    expect(device.opened).toBe(true);
    expect(h.feeder.intervalMs).toBe(2000);
    h.clock.advance(10_000);
    expect(device.writes.length).toBe(5);
    h.setSafety({ safe: false, why: 'not quorate: VMs not confirmed suspended yet' });
    h.clock.advance(10_000);
    expect(device.writes.length).toBe(5);
    expect(h.lines.filter((l) => l.event === 'fencing-starve')).toHaveLength(1);
    expect(h.feeder.report([]).feeding).toBe(false);
    h.setSafety({ safe: true, why: 'not quorate, every VM suspended, no master duty held' });
    h.clock.advance(2000);
    expect(device.writes.length).toBe(6);
    const r = h.feeder.report([{ nodeId: 4, leftAt: 1_000_000, endsAt: 1_013_000, waitingFor: 'window' }]);
    expect(r).toMatchObject({ enabled: true, armed: true, feeding: true, device: '/dev/watchdog', timeoutS: 10, why: 'not quorate, every VM suspended, no master duty held' });
    expect(r.lastFeedAt).toBe(new Date(h.clock.now()).toISOString());
    expect(r.pending).toEqual([{ nodeId: 4, leftAt: new Date(1_000_000).toISOString(), endsAt: new Date(1_013_000).toISOString(), waitingFor: 'window' }]);
  });

  it('does not feed when corosync does not answer, nor before the engine decided, nor when the write fails', () => {
    const device = new FakeDevice();
    const h = harness(device);
    h.feeder.start();
    h.setCorosync(false);
    h.clock.advance(4000);
    h.setCorosync(true);
    h.setSafety(undefined);
    h.clock.advance(4000);
    h.setSafety({ safe: true, why: 'quorate' });
    device.failFeed = true;
    h.clock.advance(2000);
    expect(device.writes).toEqual([]);
    expect(h.lines.filter((l) => l.event === 'fencing-starve').map((l) => l.why)).toEqual([
      'corosync does not answer: not connected to corosync',
      'no decision yet',
      'cannot feed the watchdog /dev/watchdog: EAGAIN',
    ]);
  });

  it('a device that cannot be opened is not announced (nobody may count on its fence) until it opens', () => {
    const device = new FakeDevice();
    let openable = false;
    device.open = () => {
      if (!openable) throw new Error('cannot open the watchdog /dev/watchdog: ENOENT');
      device.opened = true;
    };
    device.feed = () => {
      if (!device.opened) device.open();
      device.writes.push('1');
    };
    const h = harness(device);
    let armed = 0;
    (h.feeder as unknown as { o: { onArmed?: () => void } }).o.onArmed = () => armed++;
    h.feeder.start();
    expect(h.lines.find((l) => l.event === 'fencing-open')?.msg).toMatch(/ENOENT; retried on every tick/);
    expect(h.feeder.inputs(undefined, 2420, true)).toMatchObject({ watchdog: null });
    h.clock.advance(2000);
    expect(h.feeder.report([]).armed).toBe(false);
    openable = true;
    h.clock.advance(2000);
    expect(armed).toBe(1);
    expect(h.feeder.inputs(undefined, 2420, false)).toMatchObject({ watchdog: { timeoutMs: 10_000, marginMs: 4420 } });
  });

  it('a clean stop disarms with the magic close and says the node is unprotected', () => {
    const device = new FakeDevice();
    const h = harness(device);
    h.feeder.start();
    h.clock.advance(2000);
    h.feeder.stop();
    expect(device.writes).toEqual(['1', 'V']);
    expect(h.lines.find((l) => l.event === 'fencing-disarmed')?.msg).toMatch(/no longer protected/);
    h.clock.advance(10_000);
    expect(device.writes).toEqual(['1', 'V']);
  });

  it('without a device: fencing off, said once, and the engine told there is no watchdog', () => {
    const h = harness(null);
    h.feeder.start();
    expect(h.lines.filter((l) => l.event === 'fencing-off')).toHaveLength(1);
    expect(h.feeder.report([])).toMatchObject({ enabled: false, armed: false, device: null });
    expect(h.feeder.inputs(undefined, 2420, true)).toMatchObject({ type: 'fencing', watchdog: null, twoNodeWithoutQdevice: false });
  });

  it('the fence window a node announces: its timeout plus corosync failure detection plus slack; two_node without a qdevice', () => {
    expect(fencingEvent(0, 10, 2420, { twoNode: true, qdeviceRegistered: false })).toEqual({
      type: 'fencing',
      now: 0,
      watchdog: { timeoutMs: 10_000, marginMs: 4420 },
      twoNodeWithoutQdevice: true,
    });
    expect(fencingEvent(0, 10, 2420, { twoNode: true, qdeviceRegistered: true }).twoNodeWithoutQdevice).toBe(false);
    const h = harness(new FakeDevice());
    const session = { quorumFlags: () => ({ twoNode: false, qdeviceRegistered: false }) } as never;
    expect(h.feeder.inputs(session, 2420, false)).toBeDefined();
    expect(h.feeder.inputs(session, 2420, false)).toBeUndefined();
  });
});
