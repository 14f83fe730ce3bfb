// The pure parts of `corolistener sandbox`: the `--nodes` syntax and which cluster a command
// acts on when none is named. No I/O, so both are unit-tested without root.
import type { NodeSpec } from '../sandbox/spec';

/** Largest node count / list `sandbox up` accepts (the sandbox's own limit). */
export const MAX_SANDBOX_NODES = 16;
const MAX_NODE_ID = 0x7fffffff;
const MAX_PRIO = 0x7fffffff;

export class NodesOptionError extends Error {
  constructor(message: string) {
    super(`--nodes: ${message}`);
    this.name = 'NodesOptionError';
  }
}

/** `item`: where in the list (undefined for a lone count, which is the whole value). */
function integer(text: string, what: string, min: number, max: number, item: string | undefined): number {
  // Digits only: Number() would also take "0x10", "1e3" and " 7 ".
  const value = /^[0-9]{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= min && value <= max)) {
    throw new NodesOptionError(`${item === undefined ? '' : `${item}: `}${what} must be an integer in ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/**
 * `--nodes N` (N nodes with nodeids 1..N) or `--nodes ID[:PRIO[:on|off]],...` (explicit nodeids,
 * `prio:` values and `replication:`; a lone `--nodes 3` is a count, one node with nodeid 3 is
 * `--nodes 3:100`). Throws NodesOptionError naming the item and the field.
 */
export function parseNodesOption(text: string): number | NodeSpec[] {
  if (/^[0-9]+$/.test(text)) return integer(text, 'the node count', 1, MAX_SANDBOX_NODES, undefined);
  const items = text.split(',');
  if (items.length > MAX_SANDBOX_NODES) throw new NodesOptionError(`at most ${MAX_SANDBOX_NODES} nodes, got ${items.length}`);
  const specs = items.map((raw, i): NodeSpec => {
    const item = `item ${i + 1} ${JSON.stringify(raw)}`;
    const fields = raw.split(':');
    if (raw === '' || fields.length > 3) throw new NodesOptionError(`${item}: expected NODEID[:PRIO[:on|off]]`);
    const [id, prio, replication] = fields as [string, string | undefined, string | undefined];
    const spec: NodeSpec = { nodeId: integer(id, 'the nodeid', 1, MAX_NODE_ID, item) };
    if (prio !== undefined) spec.prio = integer(prio, 'the priority', 0, MAX_PRIO, item);
    if (replication !== undefined) {
      if (replication !== 'on' && replication !== 'off') {
        throw new NodesOptionError(`${item}: replication must be "on" or "off", got ${JSON.stringify(replication)}`);
      }
      spec.replication = replication === 'on';
    }
    return spec;
  });
  const seen = new Set<number>();
  for (const s of specs) {
    if (seen.has(s.nodeId)) throw new NodesOptionError(`nodeid ${s.nodeId} appears twice`);
    seen.add(s.nodeId);
  }
  return specs;
}

/** What selection needs to know about a cluster (a subset of ClusterSummary). */
export interface SelectableCluster {
  name: string;
  id: string;
  persistent: boolean;
  complete: boolean;
}

export type ClusterChoice =
  | { ok: true; name: string }
  /** `usage`: the command line must name one; `none`: there is nothing to act on. */
  | { ok: false; kind: 'usage' | 'none'; message: string };

/**
 * The cluster a command acts on: the one named, else the only cluster made by `sandbox up`
 * (persistent and complete). Temporary clusters of running test suites are not candidates:
 * a test starting elsewhere must not change what `sandbox cut n2` means.
 */
export function chooseCluster(
  clusters: readonly SelectableCluster[],
  requested: string | undefined,
  /** How the command line names a cluster, for the error message. */
  howToName = '--cluster NAME',
): ClusterChoice {
  if (requested !== undefined) return { ok: true, name: requested };
  const candidates = clusters.filter((c) => c.persistent && c.complete);
  if (candidates.length === 1) return { ok: true, name: candidates[0]!.name };
  if (candidates.length === 0) {
    return { ok: false, kind: 'none', message: 'no sandbox cluster exists; create one with: corolistener sandbox up' };
  }
  return {
    ok: false,
    kind: 'usage',
    message: `${candidates.length} sandbox clusters exist (${candidates.map((c) => c.name).join(', ')}); name one with ${howToName}`,
  };
}
