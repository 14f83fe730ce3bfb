import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimClusterDir } from '../../../src/sandbox/cluster';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'claim-dir-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

/** Hands out the given ids in turn and records how many were asked for. */
function ids(...list: string[]): (() => string) & { asked: number } {
  const next = Object.assign(() => list[next.asked++] ?? 'ffffff', { asked: 0 });
  return next;
}

describe('claimClusterDir', () => {
  it('takes another random id when the first is already a cluster directory', () => {
    fs.mkdirSync(path.join(root, 'aaaaaa'));
    fs.writeFileSync(path.join(root, 'aaaaaa', 'state.json'), 'the other cluster');
    const next = ids('aaaaaa', 'bbbbbb');
    const spec = claimClusterDir({ nodes: 2 }, root, next);
    expect(next.asked).toBe(2);
    expect(spec).toMatchObject({ id: 'bbbbbb', name: 'bbbbbb', dir: path.join(root, 'bbbbbb'), hubNetns: 'colsb-bbbbbb-hub' });
    expect(spec.nodes.map((n) => n.netns)).toEqual(['colsb-bbbbbb-n1', 'colsb-bbbbbb-n2']);
    expect(fs.statSync(spec.dir).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(root, 'aaaaaa', 'state.json'), 'utf8')).toBe('the other cluster');
  });

  it('gives up with EEXIST after 5 taken ids', () => {
    const taken = ['a00001', 'a00002', 'a00003', 'a00004', 'a00005'];
    for (const id of taken) fs.mkdirSync(path.join(root, id));
    const next = ids(...taken, 'a00006');
    expect(() => claimClusterDir({}, root, next)).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(next.asked).toBe(5);
    expect(fs.existsSync(path.join(root, 'a00006'))).toBe(false);
  });

  it('fails at once on other errors (no state root)', () => {
    const next = ids('cccccc', 'dddddd');
    expect(() => claimClusterDir({}, path.join(root, 'missing'), next)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(next.asked).toBe(1);
  });
});
