import { describe, expect, it } from 'vitest';
import { chooseCluster, NodesOptionError, parseNodesOption, type SelectableCluster } from '../../../src/cli/sandbox-args';

function nodesError(text: string): string {
  try {
    parseNodesOption(text);
  } catch (err) {
    expect(err).toBeInstanceOf(NodesOptionError);
    return (err as Error).message;
  }
  throw new Error(`parseNodesOption(${JSON.stringify(text)}) did not throw`);
}

describe('parseNodesOption', () => {
  it('a bare integer is a node count', () => {
    expect(parseNodesOption('3')).toBe(3);
    expect(parseNodesOption('16')).toBe(16);
  });

  it('a list gives nodeids, priorities and replication', () => {
    expect(parseNodesOption('2:99,4:100,8:98')).toEqual([
      { nodeId: 2, prio: 99 },
      { nodeId: 4, prio: 100 },
      { nodeId: 8, prio: 98 },
    ]);
    expect(parseNodesOption('3:100')).toEqual([{ nodeId: 3, prio: 100 }]);
    expect(parseNodesOption('1,7:0:off,9:5:on')).toEqual([{ nodeId: 1 }, { nodeId: 7, prio: 0, replication: false }, { nodeId: 9, prio: 5, replication: true }]);
  });

  it('rejects bad input naming the item and field', () => {
    expect(nodesError('0')).toBe('--nodes: the node count must be an integer in 1..16, got "0"');
    expect(nodesError('17')).toBe('--nodes: the node count must be an integer in 1..16, got "17"');
    expect(nodesError('17')).toContain('1..16');
    expect(nodesError('')).toBe('--nodes: item 1 "": expected NODEID[:PRIO[:on|off]]');
    expect(nodesError('2:99,')).toBe('--nodes: item 2 "": expected NODEID[:PRIO[:on|off]]');
    expect(nodesError('2:99:off:x')).toBe('--nodes: item 1 "2:99:off:x": expected NODEID[:PRIO[:on|off]]');
    expect(nodesError('0:1')).toBe('--nodes: item 1 "0:1": the nodeid must be an integer in 1..2147483647, got "0"');
    expect(nodesError('0x10:1')).toContain('the nodeid must be an integer');
    expect(nodesError('2:1e3')).toContain('the priority must be an integer');
    expect(nodesError('2:-1')).toContain('the priority must be an integer');
    expect(nodesError('2:3000000000')).toContain('the priority must be an integer in 0..2147483647');
    expect(nodesError('2:99:no')).toBe('--nodes: item 1 "2:99:no": replication must be "on" or "off", got "no"');
    expect(nodesError('2:99,2:98')).toBe('--nodes: nodeid 2 appears twice');
    expect(nodesError(Array.from({ length: 17 }, (_, i) => `${i + 1}:1`).join(','))).toBe('--nodes: at most 16 nodes, got 17');
  });
});

describe('chooseCluster', () => {
  const made = (name: string): SelectableCluster => ({ name, id: 'abcdef', persistent: true, complete: true });
  const testOwned = (name: string): SelectableCluster => ({ name, id: '123456', persistent: false, complete: true });

  it('takes the cluster named on the command line, whether or not it exists', () => {
    expect(chooseCluster([made('a'), made('b')], 'b')).toEqual({ ok: true, name: 'b' });
    expect(chooseCluster([], 'x')).toEqual({ ok: true, name: 'x' });
  });

  it('defaults to the only cluster made by up, ignoring temporary and incomplete ones', () => {
    expect(chooseCluster([testOwned('t1'), made('lab'), { ...made('half'), complete: false }], undefined)).toEqual({ ok: true, name: 'lab' });
  });

  it('no cluster: nothing to act on', () => {
    expect(chooseCluster([testOwned('t1')], undefined)).toEqual({
      ok: false,
      kind: 'none',
      message: 'no sandbox cluster exists; create one with: corolistener sandbox up',
    });
  });

  it('several: a usage error listing them', () => {
    expect(chooseCluster([made('a'), made('b')], undefined, 'NAME or --all')).toEqual({
      ok: false,
      kind: 'usage',
      message: '2 sandbox clusters exist (a, b); name one with NAME or --all',
    });
  });
});
