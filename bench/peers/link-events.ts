// The hub's own record of the cut: `TZ=UTC ip -ts -o monitor link` in the hub namespace prints a
// line the moment the kernel reports the node's hub-side veth going down (the clock of every
// peers run starts there, not at our call of `ip link set ... down`).

export interface LinkEvent {
  /** Wall-clock ms (µs fractions) when `ip monitor` read the kernel's message. */
  atMs: number;
  /** Interface name without the @peer suffix. */
  ifname: string;
  /** IFF_UP among the flags. */
  up: boolean;
}

/**
 * "[2026-12-05T14:31:24.820880] 5: veth-n1@if3: <BROADCAST,MULTICAST> mtu 1500 ... state DOWN ..."
 * (the "Deleted" lines of removed links are ignored).
 */
export function parseLinkLine(line: string): LinkEvent | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] \d+: ([^:@\s]+)(?:@[^:\s]+)?: <([^>]*)>/.exec(line);
  if (!m) return null;
  return { atMs: Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000, ifname: m[3]!, up: m[4]!.split(',').includes('UP') };
}
