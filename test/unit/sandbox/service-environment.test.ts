import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseUnitEnvironment, serviceEnvironment, serviceUnitPath } from '../../../src/sandbox/service-environment';

describe('the daemon environment from systemd/corolistener.service', () => {
  it('reads Environment= lines as systemd does: several assignments per line, quotes, a later one wins', () => {
    const text = ['[Service]', 'Environment=A=1 B=2', 'Environment="C=x y" D=', '#Environment=E=3', 'Environment=A=4', 'ExecStart=/bin/true'].join('\n');
    expect(parseUnitEnvironment(text)).toEqual({ A: '4', B: '2', C: 'x y', D: '' });
  });

  it("puts the caller's variables on top, NODE_OPTIONS appended to the unit's", () => {
    const unit = 'Environment=NODE_OPTIONS=--max-semi-space-size=1 MALLOC_ARENA_MAX=2';
    expect(serviceEnvironment({ NODE_OPTIONS: '--require x.js', LOG: 'debug' }, unit)).toEqual({
      NODE_OPTIONS: '--max-semi-space-size=1 --require x.js',
      MALLOC_ARENA_MAX: '2',
      LOG: 'debug',
    });
    expect(serviceEnvironment({}, unit).NODE_OPTIONS).toBe('--max-semi-space-size=1');
  });

  it('ships the memory settings the soak benchmark measured, in a form node accepts from NODE_OPTIONS', () => {
    const env = parseUnitEnvironment(readFileSync(serviceUnitPath(), 'utf8'));
    expect(env.MALLOC_ARENA_MAX).toBe('2');
    expect(env.MALLOC_MMAP_THRESHOLD_).toBe('131072');
    const flags = env.NODE_OPTIONS!.split(' ');
    expect(flags).toContain('--max-semi-space-size=1');
    for (const f of flags) expect(process.allowedNodeEnvironmentFlags.has(f.split('=')[0]!)).toBe(true);
  });
});
