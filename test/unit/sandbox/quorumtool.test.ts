import { describe, expect, it } from 'vitest';
import { parseQuorumToolStatus, QuorumToolParseError } from '../../../src/sandbox/quorumtool';

// Verbatim outputs of corosync-quorumtool -s (corosync 3.1.7) in a sandbox node.
const QUORATE = `Quorum information
------------------
Date:             Sun Nov 22 02:44:53 2026
Quorum provider:  corosync_votequorum
Nodes:            3
Node ID:          4
Ring ID:          2.11
Quorate:          Yes

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      3
Quorum:           2  
Flags:            Quorate 

Membership information
----------------------
    Nodeid      Votes Name
         2          1 n2
         4          1 n4 (local)
         8          1 n8
`;

const NOT_QUORATE = `Quorum information
------------------
Date:             Sun Nov 22 02:53:20 2026
Quorum provider:  corosync_votequorum
Nodes:            1
Node ID:          8
Ring ID:          8.11
Quorate:          No

Votequorum information
----------------------
Expected votes:   3
Highest expected: 3
Total votes:      1
Quorum:           2 Activity blocked
Flags:            

Membership information
----------------------
    Nodeid      Votes Name
         8          1 n8 (local)
`;

describe('corosync-quorumtool -s parsing', () => {
  it('reads a quorate three-node status', () => {
    expect(parseQuorumToolStatus(QUORATE)).toEqual({
      nodeId: 4,
      ringId: '2.11',
      quorate: true,
      expectedVotes: 3,
      totalVotes: 3,
      quorum: 2,
      flags: ['Quorate'],
      members: [2, 4, 8],
    });
  });

  it('reads a lone, blocked node', () => {
    expect(parseQuorumToolStatus(NOT_QUORATE)).toEqual({
      nodeId: 8,
      ringId: '8.11',
      quorate: false,
      expectedVotes: 3,
      totalVotes: 1,
      quorum: 2,
      flags: [],
      members: [8],
    });
  });

  it('sorts members numerically', () => {
    const out = QUORATE.replace('         2          1 n2\n', '').replace('         8          1 n8\n', '         8          1 n8\n        10          1 n10\n         3          1 n3\n');
    expect(parseQuorumToolStatus(out).members).toEqual([3, 4, 8, 10]);
  });

  it('rejects output without the fields it needs', () => {
    expect(() => parseQuorumToolStatus('Cannot initialize QUORUM service\n')).toThrow(QuorumToolParseError);
    expect(() => parseQuorumToolStatus(QUORATE.replace(/Quorate: +Yes/, 'Quorate:          Maybe'))).toThrow(/neither Yes nor No/);
    expect(() => parseQuorumToolStatus(QUORATE.replace(/Membership information[\s\S]*/, ''))).toThrow(/no membership rows/);
  });
});
