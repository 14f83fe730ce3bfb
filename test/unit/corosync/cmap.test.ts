import { afterEach, describe, expect, it } from 'vitest';
import { Cmap } from '../../../src/corosync/cmap';
import type { CmapTrackEvent } from '../../../src/corosync/bindings';
import { CorosyncError } from '../../../src/corosync/errors';
import { FakeCmap, cmaps } from './fakes';

afterEach(() => {
  cmaps.instances.length = 0;
});

describe('Cmap', () => {
  it('returns typed values and undefined for a missing key', () => {
    const cmap = new Cmap(FakeCmap);
    const fake = cmaps.last();
    fake.store.set('totem.config_version', 4n);
    fake.store.set('nodelist.node.0.prio', '10');
    expect(cmap.get('totem.config_version')).toBe(4n);
    expect(cmap.get('nodelist.node.0.prio')).toBe('10');
    expect(cmap.get('nope')).toBeUndefined();
  });

  it('returns entries under a prefix as a Map', () => {
    const cmap = new Cmap(FakeCmap);
    const fake = cmaps.last();
    fake.store.set('runtime.members.1.config_version', 3n);
    fake.store.set('runtime.members.1.status', 'joined');
    fake.store.set('totem.token', 1000);
    expect(cmap.entries('runtime.members.')).toEqual(
      new Map<string, unknown>([
        ['runtime.members.1.config_version', 3n],
        ['runtime.members.1.status', 'joined'],
      ]),
    );
  });

  it('routes track notifications to the listener of their track only', () => {
    const cmap = new Cmap(FakeCmap);
    const fake = cmaps.last();
    const totem: CmapTrackEvent[] = [];
    const members: CmapTrackEvent[] = [];
    cmap.track('totem.config_version', (e) => totem.push(e));
    cmap.track('runtime.members.', (e) => members.push(e));
    expect([...fake.tracks.values()]).toEqual(['totem.config_version', 'runtime.members.']);
    fake.emit('track', { trackId: 1, event: 'change', key: 'totem.config_version', value: 5n, oldValue: 4n });
    fake.emit('track', { trackId: 2, event: 'delete', key: 'runtime.members.3.ip', value: undefined, oldValue: 'x' });
    expect(totem).toEqual([{ event: 'change', key: 'totem.config_version', value: 5n, oldValue: 4n }]);
    expect(members).toEqual([{ event: 'delete', key: 'runtime.members.3.ip', value: undefined, oldValue: 'x' }]);
  });

  it('stops tracking once, through the returned function', () => {
    const cmap = new Cmap(FakeCmap);
    const fake = cmaps.last();
    const seen: CmapTrackEvent[] = [];
    const untrack = cmap.track('a.', (e) => seen.push(e));
    untrack();
    untrack();
    expect(fake.calls.filter((c) => c === 'trackDelete')).toHaveLength(1);
    expect(fake.tracks.size).toBe(0);
    fake.emit('track', { trackId: 1, event: 'add', key: 'a.b', value: 1, oldValue: undefined });
    expect(seen).toEqual([]);
  });

  it('emits disconnect and forgets listeners; untrack after it does not throw', () => {
    const cmap = new Cmap(FakeCmap);
    const fake = cmaps.last();
    const untrack = cmap.track('a.', () => undefined);
    const errors: CorosyncError[] = [];
    cmap.on('disconnect', (e) => errors.push(e));
    fake.emit('disconnect', new CorosyncError('CS_ERR_LIBRARY', 'dispatch'));
    expect(errors.map((e) => e.code)).toEqual(['CS_ERR_LIBRARY']);
    expect(() => untrack()).not.toThrow();
    expect(fake.calls).not.toContain('trackDelete');
  });
});
