import { describe, expect, it } from 'vitest';
import { carrierOfMonitorLine, LinkMonitor } from '../../../src/actions/link-monitor';

// Lines as `ip -o monitor link` (iproute2 6.1, Debian 12) printed them in a sandbox node when
// its hub-side veth went down and up again.
const LINES = {
  bridgeDown: '2: vmbr0: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state DOWN group default \\    link/ether b2:f6:01:a2:a7:d9 brd ff:ff:ff:ff:ff:ff',
  bridgeUp: '2: vmbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default \\    link/ether b2:f6:01:a2:a7:d9 brd ff:ff:ff:ff:ff:ff',
  portDown: '3: eth0@if3: <NO-CARRIER,BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue master vmbr0 state DOWN group default \\    link/ether b2:f6:01:a2:a7:d9',
  portUp: '3: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master vmbr0 state UP \\    link/ether b2:f6:01:a2:a7:d9',
  deleted: 'Deleted 2: vmbr0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default',
};

describe('carrierOfMonitorLine', () => {
  it('reads the carrier of the watched device from LOWER_UP', () => {
    expect(carrierOfMonitorLine(LINES.bridgeDown, 'vmbr0')).toBe(false);
    expect(carrierOfMonitorLine(LINES.bridgeUp, 'vmbr0')).toBe(true);
    expect(carrierOfMonitorLine(LINES.portDown, 'eth0')).toBe(false);
    expect(carrierOfMonitorLine(LINES.portUp, 'eth0')).toBe(true);
  });

  it('ignores other devices and other lines; a deleted device has no carrier', () => {
    expect(carrierOfMonitorLine(LINES.portDown, 'vmbr0')).toBeUndefined();
    expect(carrierOfMonitorLine(LINES.bridgeUp, 'vmbr1')).toBeUndefined();
    expect(carrierOfMonitorLine('    link/ether b2:f6:01:a2:a7:d9', 'vmbr0')).toBeUndefined();
    expect(carrierOfMonitorLine(LINES.deleted, 'vmbr0')).toBe(false);
  });
});

describe('LinkMonitor restarts', () => {
  // A missing CloudIpDev: `ip monitor link dev DEV` exits at once, every time. Each failure is
  // reported (the daemon logs it), so the restarts must back off, not repeat every second.
  it('back off, doubling up to maxRestartMs, while the monitor keeps failing at once', async () => {
    const monitor = new LinkMonitor('nosuchdev0', { ipCommand: '/bin/false', restartMs: 10, maxRestartMs: 80 });
    const delays: number[] = [];
    await new Promise<void>((resolve) => {
      monitor.on('error', (err) => {
        const m = /ended \(exit 1\): ; retrying in (\d+) ms$/.exec(err.message);
        expect(m, err.message).not.toBeNull();
        delays.push(Number(m![1]));
        if (delays.length === 7) resolve();
      });
      monitor.start();
    });
    monitor.close();
    expect(delays).toEqual([10, 20, 40, 80, 80, 80, 80]);
  });
});
