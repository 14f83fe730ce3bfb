import { describe, expect, it } from 'vitest';
import { carrierOfMonitorLine } from '../../../src/actions/link-monitor';

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
