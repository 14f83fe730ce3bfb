import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { formatNodeTable } from '../../../src/cli/node-table';
import { startControlSocket, type ControlSocketServer } from '../../../src/daemon/control-socket';
import type { NodeListReport, StatusReport } from '../../../src/daemon/report';

const REPORT: NodeListReport = {
  cluster: { name: 'VMmanager', quorate: true, configVersion: 5, expectedVotes: 3 },
  localNodeId: 4,
  masterNodeId: 4,
  nodes: [
    { id: 2, ip: '198.18.0.2', status: 'joined', role: 'S', priority: 99, replication: true },
    { id: 4, ip: '198.18.0.4', status: 'joined', role: 'M', priority: 100, replication: true },
    { id: 8, ip: '198.18.0.8', status: 'left', role: '-', priority: null, replication: false },
  ],
};
const STATUS: StatusReport = {
  daemon: { pid: 4242, version: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z', corosyncConnected: true, role: 'master' },
  report: REPORT,
};

let dir: string;
let socket: string;
let server: ControlSocketServer | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'corolistener-cli-'));
  socket = join(dir, 'control.sock');
});

afterEach(async () => {
  await server?.close();
  server = undefined;
  rmSync(dir, { recursive: true, force: true });
});

async function cli(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

async function daemon(handler: (cmd: string) => unknown) {
  server = await startControlSocket({ path: socket, handler });
}

describe('corolistener -l', () => {
  it("prints the running daemon's node table", async () => {
    await daemon((cmd) => (cmd === 'nodes' ? REPORT : STATUS));
    const out = await cli(['-l', '--socket', socket]);
    expect(out).toEqual({ code: 0, stdout: formatNodeTable(REPORT), stderr: '' });
    expect(out.stdout.split('\n')[5]).toBe('          8       198.18.0.8      left             -         -');
  });

  it('prints JSON with --json, finding the socket through COROLISTENER_SOCKET', async () => {
    await daemon(() => REPORT);
    const out = await cli(['-l', '--json'], { COROLISTENER_SOCKET: socket });
    expect(out.code).toBe(0);
    expect(JSON.parse(out.stdout)).toEqual(REPORT);
  });

  it('rejects a daemon answer of the wrong shape with one line naming the field', async () => {
    await daemon(() => ({ ...REPORT, nodes: [{ ...REPORT.nodes[0], role: 'master' }] }));
    const out = await cli(['-l', '--socket', socket]);
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(`corolistener: unexpected answer from the daemon on ${socket}: invalid report: report.nodes[0].role must be one of "M", "S", "-"\n`);
  });

  // The fallback reads corosync.conf first: a missing one shows that it was taken.
  it('falls back to corosync, with a warning line, when the daemon answers with an error', async () => {
    await daemon(() => {
      throw new Error('configuration not read yet');
    });
    const out = await cli(['-l', '--socket', socket, '--corosync-conf', join(dir, 'missing.conf')]);
    expect(out.code).toBe(1);
    const lines = out.stderr.split('\n');
    expect(lines[0]).toBe(`corolistener: warning: the corolistener daemon on ${socket} answered with an error (daemon: configuration not read yet); reading the node list straight from corosync`);
    expect(lines[1]).toBe(`corolistener: no corolistener daemon answers on ${socket}, and ${join(dir, 'missing.conf')} cannot be used: no such file`);
    expect(lines.slice(2)).toEqual(['']);
  });

  it('falls back to corosync, with a warning line, when the daemon does not answer in time', async () => {
    // Accepts connections and never answers: a hung daemon.
    const hung = createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(socket, resolve));
    try {
      const out = await cli(['-l', '--socket', socket, '--timeout', '200', '--corosync-conf', join(dir, 'missing.conf')]);
      expect(out.code).toBe(1);
      const lines = out.stderr.split('\n');
      expect(lines[0]).toBe(`corolistener: warning: corolistener daemon on ${socket} did not answer within 200 ms; reading the node list straight from corosync`);
      expect(lines[1]).toMatch(/missing\.conf cannot be used: no such file$/);
      expect(lines.slice(2)).toEqual(['']);
    } finally {
      hung.close();
    }
  });

  it('status, which has no fallback, still reports a hung daemon as unreachable', async () => {
    const hung = createServer(() => undefined);
    await new Promise<void>((resolve) => hung.listen(socket, resolve));
    try {
      expect(await cli(['status', '--socket', socket, '--timeout', '200'])).toEqual({
        code: 3,
        stdout: '',
        stderr: `corolistener: corolistener daemon on ${socket} did not answer within 200 ms\n`,
      });
    } finally {
      hung.close();
    }
  });

  it('falls back to corosync when no daemon answers, and says clearly when corosync.conf is unusable', async () => {
    const out = await cli(['-l', '--socket', socket, '--corosync-conf', join(dir, 'missing.conf')]);
    expect(out.code).toBe(1);
    expect(out.stderr).toBe(`corolistener: no corolistener daemon answers on ${socket}, and ${join(dir, 'missing.conf')} cannot be used: no such file\n`);
  });
});

describe('corolistener status', () => {
  it('prints the daemon state and the table', async () => {
    await daemon((cmd) => (cmd === 'status' ? STATUS : REPORT));
    const out = await cli(['status', '--socket', socket]);
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('daemon:   pid 4242, version 0.1.0, started 2026-01-01T00:00:00.000Z\n');
    expect(out.stdout).toContain('role:     master (local node 4, master 4)\n');
    expect(out.stdout).toContain('cluster:  VMmanager, quorate, config_version 5, expected_votes 3\n');
    expect(out.stdout.endsWith(formatNodeTable(REPORT))).toBe(true);
    expect(JSON.parse((await cli(['status', '--json', '--socket', socket])).stdout)).toEqual(STATUS);
  });

  it('exits 3 with one line when no daemon answers', async () => {
    expect(await cli(['status', '--socket', socket])).toEqual({
      code: 3,
      stdout: '',
      stderr: `corolistener: no corolistener daemon answers on ${socket}\n`,
    });
  });

  it("exits 1 with the daemon's error", async () => {
    await daemon(() => {
      throw new Error('corosync not connected yet');
    });
    expect(await cli(['status', '--socket', socket])).toMatchObject({ code: 1, stderr: 'corolistener: daemon: corosync not connected yet\n' });
  });
});

describe('corolistener usage, help and unimplemented commands', () => {
  it('usage errors exit 2 with one line pointing at the help', async () => {
    const out = await cli(['run', '--bogus']);
    expect(out.code).toBe(2);
    expect(out.stderr).toBe("corolistener: unknown option '--bogus' (see corolistener run --help)\n");
    expect((await cli(['-l', '--timeout', 'x'])).stderr).toMatch(/\(see corolistener -l --help\)\n$/);
  });

  it('--help prints help on stdout and exits 0', async () => {
    const out = await cli(['sandbox', '--help']);
    expect(out.code).toBe(0);
    expect(out.stdout).toMatch(/^Usage: corolistener sandbox ACTION/);
  });

  it('sandbox usage errors exit 2 with one line pointing at the sandbox help', async () => {
    expect(await cli(['sandbox', 'up', '--nodes', '4:100,4:99'])).toEqual({
      code: 2,
      stdout: '',
      stderr: 'corolistener: --nodes: nodeid 4 appears twice (see corolistener sandbox --help)\n',
    });
    expect((await cli(['sandbox', 'cut'])).stderr).toBe('corolistener: usage: corolistener sandbox cut NODE [--cluster NAME] (see corolistener sandbox --help)\n');
  });

  it('--version prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(join(__dirname, '../../../package.json'), 'utf8'));
    expect(await cli(['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('run: a daemon that cannot start says why in one line and exits 1', async () => {
    const out = await cli([
      'run',
      '--corosync-conf',
      join(dir, 'missing.conf'),
      '--vmmgr-conf',
      join(dir, 'vmmgr.conf'),
      '--log',
      join(dir, 'cl.log'),
      '--state-dir',
      join(dir, 'state'),
      '--socket',
      join(dir, 'cl.sock'),
    ]);
    expect(out.code).toBe(1);
    expect(out.stderr).toMatch(/^corolistener: cannot start the daemon: .*missing\.conf.*\n$/);
    expect(readFileSync(join(dir, 'cl.log'), 'utf8')).toMatch(/"event":"start-failed"/);
  });

  it('demo refuses without root, in one line saying how to run it', async () => {
    const getuid = vi.spyOn(process, 'getuid').mockReturnValue(1000);
    try {
      const r = await cli(['demo']);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^corolistener: corolistener demo cannot run here: not root .*sudo bash scripts\/demo\)\n$/);
    } finally {
      getuid.mockRestore();
    }
  });
});
