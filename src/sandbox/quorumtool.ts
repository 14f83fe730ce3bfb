// Parsing `corosync-quorumtool -s` output: the sandbox's wait helpers watch membership with
// the stock tool, so they work without the native binding (and check it independently). Pure.

export interface QuorumToolStatus {
  /** Node ID of the node that answered. */
  nodeId: number;
  /** Ring ID as printed, e.g. `1.5` (representative nodeid in hex . ring seq in hex). */
  ringId: string;
  quorate: boolean;
  expectedVotes: number;
  totalVotes: number;
  quorum: number;
  /** Flags words, e.g. ['Quorate']. */
  flags: string[];
  /** Node IDs in the current membership, ascending. */
  members: number[];
}

export class QuorumToolParseError extends Error {
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(`corosync-quorumtool output: ${message}`);
    this.name = 'QuorumToolParseError';
  }
}

function field(fields: Map<string, string>, key: string, output: string): string {
  const v = fields.get(key);
  if (v === undefined) throw new QuorumToolParseError(`missing "${key}:" line`, output);
  return v;
}

function intField(fields: Map<string, string>, key: string, output: string): number {
  const raw = field(fields, key, output);
  const m = /^(\d+)/.exec(raw);
  if (!m) throw new QuorumToolParseError(`"${key}:" is not a number: ${JSON.stringify(raw)}`, output);
  return Number(m[1]);
}

/** Parse the output of `corosync-quorumtool -s` (decimal node ids, i.e. without -H). */
export function parseQuorumToolStatus(output: string): QuorumToolStatus {
  const fields = new Map<string, string>();
  const members: number[] = [];
  let inMembers = false;
  for (const line of output.split('\n')) {
    if (/^\s*Nodeid\s+Votes\s+/.test(line)) {
      inMembers = true;
      continue;
    }
    if (inMembers) {
      const row = /^\s*(\d+)\s+(\d+)\s+\S/.exec(line);
      if (row) members.push(Number(row[1]));
      else if (line.trim() !== '') inMembers = false;
      continue;
    }
    const kv = /^([A-Za-z][A-Za-z ]*?):\s*(.*?)\s*$/.exec(line);
    if (kv) fields.set(kv[1]!, kv[2]!);
  }
  const quorate = field(fields, 'Quorate', output);
  if (quorate !== 'Yes' && quorate !== 'No') {
    throw new QuorumToolParseError(`"Quorate:" is neither Yes nor No: ${JSON.stringify(quorate)}`, output);
  }
  if (members.length === 0) throw new QuorumToolParseError('no membership rows', output);
  return {
    nodeId: intField(fields, 'Node ID', output),
    ringId: field(fields, 'Ring ID', output),
    quorate: quorate === 'Yes',
    expectedVotes: intField(fields, 'Expected votes', output),
    totalVotes: intField(fields, 'Total votes', output),
    quorum: intField(fields, 'Quorum', output),
    flags: (fields.get('Flags') ?? '').split(/\s+/).filter((f) => f !== ''),
    members: members.sort((a, b) => a - b),
  };
}
