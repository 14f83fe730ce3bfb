// Parsers for the processes that watch a failover from outside the programs doing it: ping from
// a client (replies from the cluster IP), bench/c/arp-watch.c in the client (gratuitous ARPs on
// the LAN) and `ip -ts -o monitor address` in each node (the cluster IP appearing). Times are
// wall-clock ms (with µs fractions), comparable with the daemon's and the baseline's logs.

export interface PingReply {
  atMs: number;
  seq: number;
}

export interface GratuitousArp {
  atMs: number;
  mac: string;
  ip: string;
}

export interface AddressEvent {
  atMs: number;
  added: boolean;
  dev: string;
  /** ADDRESS/PREFIX */
  address: string;
}

/** `ping -n -D ...` lines: "[1763781234.123456] 64 bytes from IP: icmp_seq=N ttl=64 time=0.05 ms". */
export function pingParser(ip: string): (line: string) => PingReply | null {
  return (line) => {
    const m = /^\[(\d+\.\d+)\] \d+ bytes from ([\d.]+): icmp_seq=(\d+)/.exec(line);
    if (!m || m[2] !== ip) return null;
    return { atMs: Number(m[1]) * 1000, seq: Number(m[3]) };
  };
}

/** bench/c/arp-watch.c: "ready" or "arp <real_ns> <mono_ns> <op> <mac> <ip>". */
export function parseArpLine(line: string): GratuitousArp | 'ready' {
  if (line === 'ready') return 'ready';
  const m = /^arp (\d+) \d+ \d+ ([0-9a-f:]{17}) ([\d.]+)$/.exec(line);
  if (!m) throw new Error(`arp-watch: unexpected output line ${JSON.stringify(line)}`);
  return { atMs: Number(BigInt(m[1]!) / 1000n) / 1000, mac: m[2]!, ip: m[3]! };
}

/**
 * `TZ=UTC ip -ts -o monitor address` lines: "[2026-11-22T03:19:31.932252] 1: lo    inet
 * 198.18.0.77/24 scope global lo\ ..." ("Deleted " before the index when removed). IPv4 only.
 */
export function parseIpMonitor(line: string): AddressEvent | null {
  const m = /^\[(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})\] (Deleted )?\d+: (\S+)\s+inet ([\d.]+\/\d+)/.exec(line);
  if (!m) return null;
  return { atMs: Date.parse(`${m[1]}Z`) + Number(m[2]) / 1000, added: m[3] === undefined, dev: m[4]!, address: m[5]! };
}
