import { describe, expect, it } from 'vitest';
import { electMaster, ineligibility, raisedPriority, type ClusterView, type NodeInfo } from '../../../src/engine';

const node = (nodeId: number, prio: number | undefined, replication = true): NodeInfo => ({ nodeId, ip: `198.18.0.${nodeId}`, prio, replication });
const view = (...nodes: NodeInfo[]): ClusterView => ({ configVersion: 3, nodes, takeoverDelayMs: 0 });
const allAt = (version: number, ...ids: number[]): Record<number, number> => Object.fromEntries(ids.map((id) => [id, version]));

describe('electMaster', () => {
  it('picks the highest prio (documentation example: 2/4/8 with 99/100/98 -> 4)', () => {
    const v = view(node(2, 99), node(4, 100), node(8, 98));
    expect(electMaster(v, [2, 4, 8], allAt(3, 2, 4, 8)).masterId).toBe(4);
    expect(electMaster(v, [2, 8], allAt(3, 2, 8)).masterId).toBe(2);
  });

  it('breaks ties by the lowest nodeid, whatever the member order', () => {
    const v = view(node(9, 50), node(3, 50), node(5, 50));
    for (const members of [
      [9, 3, 5],
      [5, 9, 3],
      [3, 5, 9],
    ])
      expect(electMaster(v, members, allAt(3, 3, 5, 9)).masterId).toBe(3);
  });

  it('skips replication off, missing prio, unconfigured members and unknown versions', () => {
    const v = view(node(1, 200, false), node(2, undefined), node(3, 10), node(4, 20));
    expect(electMaster(v, [1, 2, 3, 4, 7], { ...allAt(3, 1, 2, 3, 7) }).masterId).toBe(3);
    expect(ineligibility(1, v.nodes[0], allAt(3, 1), 3)).toBe('replication-off');
    expect(ineligibility(2, v.nodes[1], allAt(3, 2), 3)).toBe('no-prio');
    expect(ineligibility(7, undefined, allAt(3, 7), 3)).toBe('not-configured');
    expect(ineligibility(4, v.nodes[3], {}, 3)).toBe('version-unknown');
  });

  it("excludes members whose config version is older than another member's", () => {
    const v = view(node(1, 100), node(2, 50));
    expect(electMaster(v, [1, 2], { 1: 4, 2: 5 })).toEqual({ masterId: 2, newestVersion: 5 });
    expect(ineligibility(1, v.nodes[0], { 1: 4, 2: 5 }, 5)).toBe('stale-config');
  });

  it('elects nobody when nobody is eligible', () => {
    expect(electMaster(view(node(1, 5, false)), [1], allAt(3, 1)).masterId).toBeNull();
  });
});

describe('raisedPriority', () => {
  it('goes one above the highest other node, or stays when already above all', () => {
    expect(raisedPriority(view(node(2, 99), node(4, 100), node(8, 98)), 2)).toBe(101);
    expect(raisedPriority(view(node(2, 99), node(4, 100), node(8, 98)), 4)).toBeNull();
    // Ineligible nodes count too: the returning node must not outrank the master later.
    expect(raisedPriority(view(node(2, 99), node(4, 200, false)), 2)).toBe(201);
    expect(raisedPriority(view(node(2, 99), node(4, 99)), 2)).toBe(100);
  });
});
