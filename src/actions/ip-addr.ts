// Parses `ip -j addr show` (iproute2 JSON) into what the cluster IP code needs, rejecting
// output that does not have the expected shape instead of guessing.

export interface InterfaceAddress {
  readonly family: string;
  readonly local: string;
  readonly prefixlen: number;
}

export interface InterfaceInfo {
  readonly ifname: string;
  /** Link-layer address (lowercase), when the link has one. */
  readonly mac?: string;
  readonly flags: readonly string[];
  readonly addresses: readonly InterfaceAddress[];
}

export class IpOutputError extends Error {
  constructor(source: string, detail: string) {
    super(`unexpected output of ${source}: ${detail}`);
    this.name = 'IpOutputError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `source` names the command in errors, e.g. "ip -j addr show dev vmbr0". */
export function parseIpAddrJson(text: string, source: string): InterfaceInfo[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new IpOutputError(source, `not JSON (${(e as Error).message})`);
  }
  if (!Array.isArray(raw)) throw new IpOutputError(source, 'not a JSON array');
  return raw.map((link, i) => {
    if (!isRecord(link) || typeof link.ifname !== 'string') throw new IpOutputError(source, `entry ${i} has no ifname`);
    const ifname = link.ifname;
    const addrInfo = link.addr_info ?? [];
    if (!Array.isArray(addrInfo)) throw new IpOutputError(source, `${ifname}: addr_info is not an array`);
    const addresses = addrInfo.map((a, j) => {
      if (!isRecord(a) || typeof a.family !== 'string' || typeof a.local !== 'string' || typeof a.prefixlen !== 'number') {
        throw new IpOutputError(source, `${ifname}: addr_info[${j}] lacks family/local/prefixlen`);
      }
      return { family: a.family, local: a.local, prefixlen: a.prefixlen };
    });
    const flags = Array.isArray(link.flags) ? link.flags.filter((f): f is string => typeof f === 'string') : [];
    const mac = typeof link.address === 'string' ? link.address.toLowerCase() : undefined;
    return { ifname: link.ifname, mac, flags, addresses };
  });
}
