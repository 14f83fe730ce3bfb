// Typed, read-only view of a corosync.conf document: the fields corolistener decides with.
// Values that do not parse are left undefined here; validateCorosyncConf reports them.

import { type CorosyncConfDocument, type ConfEntry, type ConfSection, sectionsAt, valueAt, lastEntry } from './corosync-conf-document';
import { parseCorosyncInteger } from './corosync-conf-rules';

const UINT32: readonly [number, number] = [0, 0xffffffff];

export interface CorosyncInterface {
  readonly linknumber: number;
  /** Every key of the interface section, last value wins, in file order. */
  readonly keys: Readonly<Record<string, string>>;
}

export interface CorosyncNode {
  /** Position among all `node` sections, 0-based (corosync's nodelist.node.N). */
  readonly index: number;
  readonly nodeid: number | undefined;
  readonly name: string | undefined;
  /** ringN_addr by link number: ringAddrs[0] is ring0_addr. */
  readonly ringAddrs: Readonly<Record<number, string>>;
  readonly prio: number | undefined;
  /** `replication: on|off`; undefined when absent or not on/off. */
  readonly replication: boolean | undefined;
  /** `standby: on|off` (never elected while on); undefined when absent or not on/off. */
  readonly standby?: boolean;
  /** Every key of the node section (known and unknown), last value wins, in file order. */
  readonly keys: Readonly<Record<string, string>>;
  /** 1-based line of `node {`. */
  readonly line: number;
}

export interface CorosyncConfView {
  readonly clusterName: string | undefined;
  /** uint64 in corosync, hence bigint. */
  readonly configVersion: bigint | undefined;
  /** corosync's default transport is knet. */
  readonly transport: string;
  readonly interfaces: readonly CorosyncInterface[];
  readonly expectedVotes: number | undefined;
  readonly ihttpd: { readonly count: number | undefined; readonly ports: readonly (number | undefined)[] };
  readonly nodes: readonly CorosyncNode[];
  /** `corolistener { maintenance: on }`: listeners take no action (issue 18). */
  readonly maintenance?: boolean;
}

export const UINT64_MAX = (1n << 64n) - 1n;

/** Unsigned decimal integer, digits only (no sign, no blanks); undefined otherwise. */
export function parseUnsigned(text: string | undefined, max: number): number | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= max ? n : undefined;
}

export function parseConfigVersion(text: string | undefined): bigint | undefined {
  if (text === undefined || !/^[0-9]+$/.test(text)) return undefined;
  const n = BigInt(text);
  return n <= UINT64_MAX ? n : undefined;
}

export function parseOnOff(text: string | undefined): boolean | undefined {
  return text === 'on' ? true : text === 'off' ? false : undefined;
}

function keysOf(section: ConfSection): Record<string, string> {
  const keys: Record<string, string> = {};
  for (const c of section.children) if (c.kind === 'entry') keys[c.key] = c.value;
  return keys;
}

export const RING_ADDR_KEY = /^ring([0-9]+)_addr$/;

export function nodeSections(doc: CorosyncConfDocument): ConfSection[] {
  return sectionsAt(doc, 'nodelist.node');
}

export function nodeOf(section: ConfSection, index: number): CorosyncNode {
  const keys = keysOf(section);
  const ringAddrs: Record<number, string> = {};
  for (const [k, v] of Object.entries(keys)) {
    const m = RING_ADDR_KEY.exec(k);
    if (m) ringAddrs[Number(m[1])] = v;
  }
  return {
    index,
    // corosync's own integer keys are read its way (strtoll: "+7" and "007" are 7).
    nodeid: keys['nodeid'] === undefined ? undefined : parseCorosyncInteger(keys['nodeid'], UINT32),
    name: keys['name'],
    ringAddrs,
    prio: parseUnsigned(keys['prio'], Number.MAX_SAFE_INTEGER),
    replication: parseOnOff(keys['replication']),
    standby: parseOnOff(keys['standby']),
    keys,
    line: section.line + 1,
  };
}

const value = (e: ConfEntry | undefined): string | undefined => e?.value;

export function viewCorosyncConf(doc: CorosyncConfDocument): CorosyncConfView {
  const ihttpd = sectionsAt(doc, 'ihttpd');
  const ihttpdKeys: Record<string, string> = Object.fromEntries(ihttpd.flatMap((section) => Object.entries(keysOf(section))));
  const count = parseUnsigned(ihttpdKeys['count'], 0xffffffff);
  const ports: (number | undefined)[] = [];
  for (const k of Object.keys(ihttpdKeys)) {
    const m = /^port([0-9]+)$/.exec(k);
    if (m) ports[Number(m[1])] = parseUnsigned(ihttpdKeys[k], 65535);
  }
  return {
    clusterName: value(valueAt(doc, 'totem', 'cluster_name')),
    configVersion: parseConfigVersion(value(valueAt(doc, 'totem', 'config_version'))),
    transport: value(valueAt(doc, 'totem', 'transport')) ?? 'knet',
    interfaces: sectionsAt(doc, 'totem.interface').map((s) => ({
      linknumber: parseUnsigned(value(lastEntry(s, 'linknumber') ?? lastEntry(s, 'ringnumber')), 255) ?? 0,
      keys: keysOf(s),
    })),
    expectedVotes: parseCorosyncInteger(value(valueAt(doc, 'quorum', 'expected_votes')) ?? '', UINT32),
    ihttpd: { count, ports },
    nodes: nodeSections(doc).map(nodeOf),
    maintenance: value(valueAt(doc, 'corolistener', 'maintenance')) === 'on',
  };
}
