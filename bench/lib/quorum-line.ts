// The line format both quorum probes print (bench/c/quorum-probe.c and bench/latency/js-probe.ts),
// so one parser reads both and the comparison cannot drift between two formats:
//   ready
//   quorum <mono_ns> <real_ns> <quorate 0|1> <ring_nodeid> <ring_seq> <member,member,...>

export interface QuorumSample {
  /** CLOCK_MONOTONIC at the notification, ns (system-wide: comparable across processes). */
  monoNs: bigint;
  /** CLOCK_REALTIME at the notification, ns. */
  realNs: bigint;
  quorate: boolean;
  ringNodeId: number;
  ringSeq: number;
  members: number[];
}

export function formatQuorumLine(s: QuorumSample): string {
  return `quorum ${s.monoNs} ${s.realNs} ${s.quorate ? 1 : 0} ${s.ringNodeId} ${s.ringSeq} ${s.members.join(',')}`;
}

const LINE = /^quorum (\d+) (\d+) ([01]) (\d+) (\d+) ([\d,]*)$/;

/** 'ready', a sample, or an error naming the bad line. */
export function parseQuorumLine(line: string): QuorumSample | 'ready' {
  if (line === 'ready') return 'ready';
  const m = LINE.exec(line);
  if (!m) throw new Error(`quorum probe: unexpected output line ${JSON.stringify(line)}`);
  return {
    monoNs: BigInt(m[1]!),
    realNs: BigInt(m[2]!),
    quorate: m[3] === '1',
    ringNodeId: Number(m[4]),
    ringSeq: Number(m[5]),
    members: m[6] === '' ? [] : m[6]!.split(',').map(Number),
  };
}

/** Same quorum change: same ring, quorate flag and membership. */
export function changeKey(s: QuorumSample): string {
  return `${s.ringNodeId}/${s.ringSeq}/${s.quorate ? 1 : 0}/${[...s.members].sort((a, b) => a - b).join(',')}`;
}
