// State files, name claims and stale-cluster cleanup, on a temporary state root. These clusters
// were never built (no namespaces), which is exactly the "crashed during creation" case.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listClusters, openCluster } from '../../../src/sandbox/cluster';
import { startTimeOf } from '../../../src/util/process-identity';
import { resolveCluster, type ClusterOptions } from '../../../src/sandbox/spec';
import { claimName, idOfName, readState, writeState, type ClusterState } from '../../../src/sandbox/state';
import { cleanupStale, teardownSync } from '../../../src/sandbox/teardown';

let root: string;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'colsb-state-'));
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

function deadPid(): number {
  return spawnSync('true').pid!;
}

function makeState(id: string, owner: { pid: number; start: string | null }, extra: ClusterOptions & { complete?: boolean } = {}): ClusterState {
  const spec = resolveCluster(extra, id, root);
  const state: ClusterState = {
    ...spec,
    format: 1,
    ownerPid: owner.pid,
    ownerStartTime: owner.start,
    createdAt: new Date().toISOString(),
    complete: extra.complete ?? true,
  };
  fs.mkdirSync(state.dir, { recursive: true });
  fs.mkdirSync(path.join(state.dir, 'nodes', 'n1', 'etc'), { recursive: true });
  writeState(state);
  if (extra.name) claimName(root, extra.name, id);
  return state;
}

const me = () => ({ pid: process.pid, start: startTimeOf(process.pid) });

describe('sandbox state and stale cleanup', () => {
  it('round-trips the state file', () => {
    const s = makeState('aaaaaa', me());
    expect(readState(s.dir)).toEqual(s);
    expect(readState(path.join(root, 'bbbbbb'))).toBeNull();
  });

  it('removes clusters whose owner is dead, keeps live-owned ones', () => {
    makeState('aaaaaa', { pid: deadPid(), start: 'gone' });
    makeState('bbbbbb', me());
    makeState('cccccc', me(), { persistent: true, name: 'inuse', complete: false });
    // A pid that is alive but was recycled (different start time) is not the owner.
    makeState('dddddd', { pid: process.pid, start: 'other' });
    // Persistent, but its creator died half-way / its namespaces are gone (these were never
    // built): leftovers. (An intact persistent cluster is kept: see the integration tests.)
    makeState('eeeeee', { pid: deadPid(), start: 'gone' }, { persistent: true, complete: false });
    makeState('ffffff', { pid: deadPid(), start: 'gone' }, { persistent: true, name: 'broken' });
    expect(cleanupStale(root).sort()).toEqual(['aaaaaa', 'dddddd', 'eeeeee', 'ffffff']);
    expect(fs.readdirSync(root).sort()).toEqual(['bbbbbb', 'by-name', 'cccccc']);
    expect(idOfName(root, 'broken')).toBeNull();
    expect(listClusters(root).map((c) => [c.id, c.ownerAlive, c.persistent, c.complete])).toEqual([
      ['bbbbbb', true, false, true],
      ['cccccc', true, true, false],
    ]);
  });

  it('leaves a fresh directory without state (a creation in progress) and removes an old one', () => {
    fs.mkdirSync(path.join(root, 'aaaaaa'));
    fs.mkdirSync(path.join(root, 'bbbbbb'));
    const old = (Date.now() - 120_000) / 1000;
    fs.utimesSync(path.join(root, 'bbbbbb'), old, old);
    expect(cleanupStale(root)).toEqual(['bbbbbb']);
    expect(fs.existsSync(path.join(root, 'aaaaaa'))).toBe(true);
  });

  it('claims names atomically and releases them on teardown', () => {
    const s = makeState('aaaaaa', me(), { name: 'demo', persistent: true });
    expect(() => claimName(root, 'demo', 'bbbbbb')).toThrow(/"demo" is already used by cluster aaaaaa/);
    expect(openCluster('demo', root).id).toBe('aaaaaa');
    expect(openCluster('aaaaaa', root).name).toBe('demo');
    expect(teardownSync(s.dir)).toEqual({ done: true, errors: [] });
    expect(teardownSync(s.dir)).toEqual({ done: true, errors: [] }); // idempotent
    expect(idOfName(root, 'demo')).toBeNull();
    expect(() => openCluster('demo', root)).toThrow(/no sandbox cluster named "demo"/);
    // A leftover link to a cluster that no longer exists is taken over.
    fs.symlinkSync('../cccccc', path.join(root, 'by-name', 'stale'));
    claimName(root, 'stale', 'dddddd');
    expect(idOfName(root, 'stale')).toBe('dddddd');
  });

  it('does not tear down a cluster another live process is tearing down', () => {
    const s = makeState('aaaaaa', { pid: deadPid(), start: 'gone' });
    const other = spawnSync('true'); // dead claimant: taken over
    fs.writeFileSync(path.join(s.dir, 'destroying'), `${other.pid} x`);
    expect(teardownSync(s.dir).done).toBe(true);
    const t = makeState('bbbbbb', { pid: deadPid(), start: 'gone' });
    fs.writeFileSync(path.join(t.dir, 'destroying'), `1 ${startTimeOf(1)}`); // pid 1 is alive
    expect(teardownSync(t.dir).done).toBe(false);
    expect(fs.existsSync(t.dir)).toBe(true);
  });

  it('refuses to open a cluster whose creation did not complete', () => {
    makeState('aaaaaa', me(), { complete: false });
    expect(() => openCluster('aaaaaa', root)).toThrow(/still being created/);
  });
});
