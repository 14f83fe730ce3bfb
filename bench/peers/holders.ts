// Who held the cluster IP when, from the address events of every node's `ip monitor address`,
// and the stretches where two nodes held it at once. Pure.
//
// Two kinds of overlap are told apart, as they matter differently:
//   survivors  two nodes on the LAN hold the address: clients' ARP entries flip between two
//              MACs and connections break; the overlap that counts against a system
//   cut-off    the old master, cut off from the LAN, still holds it while a survivor does: no
//              client can reach the old master meanwhile, but it would answer again the moment
//              its link came back (an old master that never lets go is a split brain on heal)

export interface HoldEvent {
  atMs: number;
  node: string;
  added: boolean;
}

export interface Overlap {
  kind: 'survivors' | 'cut-off';
  fromMs: number;
  toMs: number;
  nodes: string[];
  /** Still going at the end of the observation window (toMs is the window's end). */
  open: boolean;
}

/**
 * The stretches of [startMs, endMs] in which two or more nodes held the address, given who held
 * it at startMs and every add/delete event after that. `cutOff` is the node cut off the LAN.
 * A stretch of zero length (two events with the same timestamp) is no overlap.
 */
export function overlaps(initial: readonly string[], events: readonly HoldEvent[], cutOff: string, startMs: number, endMs: number): Overlap[] {
  const held = new Set(initial);
  const out: Overlap[] = [];
  let current: { kind: Overlap['kind']; fromMs: number; nodes: Set<string> } | null = null;
  const kindOf = (): Overlap['kind'] | null => {
    const survivors = [...held].filter((n) => n !== cutOff).length;
    if (survivors >= 2) return 'survivors';
    if (survivors === 1 && held.has(cutOff)) return 'cut-off';
    return null;
  };
  const close = (atMs: number, open: boolean): void => {
    if (current !== null && atMs > current.fromMs) out.push({ kind: current.kind, fromMs: current.fromMs, toMs: atMs, nodes: [...current.nodes].sort(), open });
    current = null;
  };
  const step = (atMs: number): void => {
    const kind = kindOf();
    if (current !== null && current.kind !== kind) close(atMs, false);
    if (kind !== null) {
      current ??= { kind, fromMs: atMs, nodes: new Set() };
      for (const n of held) current.nodes.add(n);
    }
  };
  step(startMs);
  const inWindow = [...events].filter((e) => e.atMs >= startMs && e.atMs <= endMs).sort((a, b) => a.atMs - b.atMs);
  for (const e of inWindow) {
    if (e.added) held.add(e.node);
    else held.delete(e.node);
    step(e.atMs);
  }
  close(endMs, true);
  return out;
}

/** Total milliseconds of the overlaps of one kind. */
export function overlapMs(list: readonly Overlap[], kind: Overlap['kind']): number {
  return list.filter((o) => o.kind === kind).reduce((sum, o) => sum + (o.toMs - o.fromMs), 0);
}
