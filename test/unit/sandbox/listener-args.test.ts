import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/options';
import { LISTENER_FILES, listenerRunArgs } from '../../../src/sandbox/listener';

describe('sandbox listener command line', () => {
  it('is a `corolistener run` the CLI accepts, with every path in the node (environment ignored)', () => {
    const [main, ...argv] = listenerRunArgs('/pkg/dist/cli/main.js');
    expect(main).toBe('/pkg/dist/cli/main.js');
    const command = parseCommandLine(argv, { COROLISTENER_SOCKET: '/elsewhere.sock', COROLISTENER_LOG: '/elsewhere.log' });
    expect(command).toEqual({
      name: 'run',
      options: {
        corosyncConf: '/etc/corosync/corosync.conf',
        keyFile: '/etc/corosync/authkey',
        vmmgrConf: LISTENER_FILES.vmmgrConf,
        log: LISTENER_FILES.log,
        lockDir: '/tmp',
        stateDir: LISTENER_FILES.stateDir,
        socket: LISTENER_FILES.socket,
      },
    });
  });

  it('keeps every file of the listener in its own directory of the node (but the lock dir, corosync.conf and the key)', () => {
    const { dir, corosyncConf, keyFile, lockDir, ...own } = LISTENER_FILES;
    expect(corosyncConf).toBe('/etc/corosync/corosync.conf');
    expect(keyFile).toBe('/etc/corosync/authkey');
    expect(lockDir).toBe('/tmp');
    for (const p of Object.values(own)) expect(p.startsWith(`${dir}/`)).toBe(true);
  });
});
