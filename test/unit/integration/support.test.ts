// test/integration/support.ts decides whether an integration suite runs, fails (CI) or skips.
// "Fail, not skip, in CI" rests on that branch, so it is checked here with the prerequisite check
// stubbed and vitest's describe/it replaced by recorders (for the module under test only).
import { afterEach, describe, expect, it, vi } from 'vitest';

interface Registered {
  kind: 'describe' | 'describe.skip' | 'it';
  name: string;
  fn: () => unknown;
}

async function loadSupport(problems: string[]): Promise<{ describeIntegration: (name: string, fn: () => void) => void; registered: Registered[] }> {
  const registered: Registered[] = [];
  vi.resetModules();
  vi.doMock('../../../src/sandbox/prereqs', () => ({ sandboxPrereqProblems: () => problems }));
  vi.doMock('vitest', async (importOriginal) => {
    const actual = await importOriginal<typeof import('vitest')>();
    const describeRecorder = Object.assign(
      (name: string, fn: () => unknown) => {
        registered.push({ kind: 'describe', name, fn });
        fn();
      },
      { skip: (name: string, fn: () => unknown) => void registered.push({ kind: 'describe.skip', name, fn }) },
    );
    return { ...actual, describe: describeRecorder, it: (name: string, fn: () => unknown) => void registered.push({ kind: 'it', name, fn }) };
  });
  const { describeIntegration } = await import('../../integration/support');
  return { describeIntegration, registered };
}

afterEach(() => {
  vi.doUnmock('vitest');
  vi.doUnmock('../../../src/sandbox/prereqs');
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('describeIntegration', () => {
  it('registers a failing test naming the missing prerequisites when CI is set', async () => {
    vi.stubEnv('CI', 'true');
    const { describeIntegration, registered } = await loadSupport(['not root (network namespaces and mounts need root)', 'corosync not in PATH']);
    const suite = vi.fn();
    describeIntegration('a real cluster', suite);
    expect(suite).not.toHaveBeenCalled();
    expect(registered.map(({ kind, name }) => [kind, name])).toEqual([
      ['describe', 'a real cluster'],
      ['it', 'has its prerequisites (required under CI)'],
    ]);
    expect(() => registered[1]!.fn()).toThrow('integration prerequisites missing: not root (network namespaces and mounts need root); corosync not in PATH');
  });

  it('skips with the printed reason outside CI', async () => {
    vi.stubEnv('CI', '');
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const { describeIntegration, registered } = await loadSupport(['not root']);
    describeIntegration('a real cluster', () => undefined);
    expect(registered.map(({ kind, name }) => [kind, name])).toEqual([['describe.skip', 'a real cluster']]);
    expect(warn).toHaveBeenCalledWith('[integration] SKIPPED "a real cluster": not root');
  });

  it('runs the suite when the prerequisites are met, CI or not', async () => {
    vi.stubEnv('CI', 'true');
    const { describeIntegration, registered } = await loadSupport([]);
    const suite = vi.fn();
    describeIntegration('a real cluster', suite);
    expect(suite).toHaveBeenCalledOnce();
    expect(registered.map(({ kind, name }) => [kind, name])).toEqual([['describe', 'a real cluster']]);
  });
});
