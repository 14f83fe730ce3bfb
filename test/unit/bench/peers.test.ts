// What the peers benchmark counts: who held the cluster IP when (two-holder overlaps of both
// kinds) and the hub's link-down line that starts its clock, against real `ip -ts -o monitor`
// output.
import { describe, expect, it } from 'vitest';
import { overlapMs, overlaps } from '../../../bench/peers/holders';
import { parseLinkLine } from '../../../bench/peers/link-events';

describe('peers benchmark: two holders', () => {
  it('a clean takeover: the old master let go before the survivor took it', () => {
    const list = overlaps(
      ['n1'],
      [
        { atMs: 150, node: 'n1', added: false },
        { atMs: 300, node: 'n2', added: true },
      ],
      'n1',
      100,
      2000,
    );
    expect(list).toEqual([]);
  });

  it('the cut-off old master still holding it while a survivor does', () => {
    const list = overlaps(
      ['n1'],
      [
        { atMs: 300, node: 'n2', added: true },
        { atMs: 420, node: 'n1', added: false },
      ],
      'n1',
      100,
      2000,
    );
    expect(list).toEqual([{ kind: 'cut-off', fromMs: 300, toMs: 420, nodes: ['n1', 'n2'], open: false }]);
    expect(overlapMs(list, 'cut-off')).toBe(120);
    expect(overlapMs(list, 'survivors')).toBe(0);
  });

  it('two survivors claiming it (a brief second master), and an old master that never lets go', () => {
    const events = [
      { atMs: 400, node: 'n3', added: true },
      { atMs: 410, node: 'n2', added: true },
      { atMs: 450, node: 'n3', added: false },
    ];
    const list = overlaps(['n1'], events, 'n1', 100, 3000);
    expect(list.map((o) => [o.kind, o.fromMs, o.toMs, o.open])).toEqual([
      ['cut-off', 400, 410, false],
      ['survivors', 410, 450, false],
      ['cut-off', 450, 3000, true],
    ]);
    expect(list[1]!.nodes).toEqual(['n1', 'n2', 'n3']);
    expect(overlapMs(list, 'survivors')).toBe(40);
  });

  it('events outside the window and zero-length stretches do not count', () => {
    const events = [
      { atMs: 50, node: 'n2', added: true },
      { atMs: 500, node: 'n1', added: false },
      { atMs: 500, node: 'n2', added: true },
      { atMs: 5000, node: 'n3', added: true },
    ];
    expect(overlaps(['n1'], events, 'n1', 100, 1000)).toEqual([]);
  });
});

describe('peers benchmark: the hub link line', () => {
  it('the veth going down, and its bridge-port twin', () => {
    const down = parseLinkLine(
      '[2026-12-05T14:31:24.820880] 5: veth-n1@if3: <BROADCAST,MULTICAST> mtu 1500 qdisc noqueue master hub0 state DOWN group default \\    link/ether 1e:34:54:d6:39:49 brd ff:ff:ff:ff:ff:ff link-netns colsb-8d0c50-n1',
    );
    expect(down).toEqual({ atMs: Date.parse('2026-12-05T14:31:24Z') + 820.88, ifname: 'veth-n1', up: false });
    expect(parseLinkLine('[2026-12-05T14:31:24.820980] 5: veth-n1@veth-n2: <BROADCAST,MULTICAST> mtu 1500 master hub0 state DOWN \\    link/ether 1e:34:54:d6:39:49')).toMatchObject({
      ifname: 'veth-n1',
      up: false,
    });
    expect(parseLinkLine('[2026-12-05T14:31:30.000001] 5: veth-n1@if3: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue master hub0 state UP')).toMatchObject({ up: true });
    expect(parseLinkLine('Deleted 5: veth-n1@if3: <BROADCAST,MULTICAST> mtu 1500')).toBeNull();
  });
});
