import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultKeepVisible, hidingMount, resolveCluster, SandboxSpecError } from '../../../src/sandbox/spec';

describe('sandbox keepVisible', () => {
  it('knows which host paths a node would not see', () => {
    expect(hidingMount('/tmp/x/c')).toBe('/tmp');
    expect(hidingMount('/run/user/0')).toBe('/run');
    expect(hidingMount('/etc/corosync')).toBe('/etc/corosync');
    expect(hidingMount('/etc/corosyncx')).toBeUndefined();
    expect(hidingMount('/root/src/corolistener')).toBeUndefined();
  });

  it('defaults to this package and the node binary, only where they are hidden', () => {
    const root = path.resolve(__dirname, '../../..');
    expect(defaultKeepVisible()).toEqual([root, path.dirname(process.execPath)].filter((p) => hidingMount(p) !== undefined));
    expect(resolveCluster({}, 'abc123').keepVisible).toEqual(defaultKeepVisible());
  });

  it('normalises paths and refuses relative ones and private directories themselves', () => {
    expect(resolveCluster({ keepVisible: ['/tmp/a/../b/'] }, 'abc123').keepVisible).toEqual(['/tmp/b']);
    expect(() => resolveCluster({ keepVisible: ['tmp/b'] }, 'abc123')).toThrow(SandboxSpecError);
    expect(() => resolveCluster({ keepVisible: ['/tmp'] }, 'abc123')).toThrow(/keepVisible\[0\]: \/tmp is a node's private directory itself/);
  });
});
