// The CLI's edges as golden text (issue 17): for each command line, the exit code and exactly
// what goes to stdout and stderr. test/unit/cli/golden/cli-edges.txt is the reviewed output;
// after a deliberate change, regenerate it with UPDATE_GOLDEN=1 and review the diff.
// Paths are shown as $TMP (the test's directory) and $ROOT (the checkout).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CliIo } from '../../../src/cli/io';
import { main } from '../../../src/cli/main';
import { startControlSocket, type ControlSocketServer } from '../../../src/daemon/control-socket';
import type { NodeListReport, StatusReport } from '../../../src/daemon/report';

const ROOT = resolve(__dirname, '../../..');
const GOLDEN = join(__dirname, 'golden/cli-edges.txt');
const dir = mkdtempSync(join(tmpdir(), 'corolistener-golden-'));
let server: ControlSocketServer | undefined;
let operator: ControlSocketServer | undefined;

// A daemon that runs but has no corosync connection: every node 'left', quorum unknown.
const LEFT: NodeListReport = {
  cluster: { name: 'VMmanager', quorate: false, configVersion: 5, expectedVotes: 3 },
  localNodeId: 4,
  masterNodeId: null,
  nodes: [2, 4, 8].map((id) => ({ id, ip: `198.18.0.${id}`, status: 'left' as const, role: '-' as const, priority: 100 - id, replication: true })),
};
const NOT_CONNECTED: StatusReport = {
  daemon: { pid: 4242, version: '0.1.0', startedAt: '2026-01-01T00:00:00.000Z', corosyncConnected: false, role: 'suspended' },
  report: LEFT,
};

beforeAll(async () => {
  writeFileSync(join(dir, 'two-errors.conf'), 'totem {\n}\n');
  writeFileSync(
    join(dir, 'corosync.conf'),
    'totem {\n\tversion: 2\n\tcluster_name: lab\n\tconfig_version: 3\n}\nnodelist {\n\tnode {\n\t\tnodeid: 2\n\t\tring0_addr: 10.0.0.2\n\t\tprio: 99\n\t}\n\tnode {\n\t\tnodeid: 4\n\t\tring0_addr: 10.0.0.4\n\t\tprio: 100\n\t\treplication: off\n\t}\n}\n',
  );
  writeFileSync(join(dir, 'vmmgr.conf'), 'CloudIp 10.0.0.100\nCloudMask 255.255.255.0\nCloudIpDev vmbr0\n');
  mkdirSync(join(dir, 'a-directory'));
  server = await startControlSocket({ path: join(dir, 'left.sock'), handler: (cmd) => (cmd === 'status' ? NOT_CONNECTED : LEFT) });
  // A master's daemon answering operator commands (issue 18): switchover 9 refused, anything else done.
  operator = await startControlSocket({
    path: join(dir, 'op.sock'),
    handler: (_cmd, req) =>
      (req.args as string[])[1] === '9'
        ? { ok: false, message: 'node 9 is not a member of this quorate partition (members: 2,4,8)' }
        : {
            ok: true,
            message:
              'switchover 2: config_version 6; the master role moves from node 4 to node 2 (ordered hand-over); node 2 is master, all 3 members at config_version 6; no cluster-IP holder for 212.4 ms',
          },
  });
  const decision = {
    kind: 'decision',
    time: '2026-12-05T03:12:00.000Z',
    seq: 1,
    run: 'r1',
    trigger: 'quorum',
    quorate: true,
    members: [2, 8],
    role: 'master',
    previousRole: 'slave',
    master: 2,
    maintenance: false,
    explanation: 'master: takeover; failed node(s): 4',
    effects: ['persistState', 'addClusterIp'],
  };
  const step = { kind: 'step', time: '2026-12-05T03:12:00.020Z', seq: 1, run: 'r1', effect: 'addClusterIp', outcome: 'ok', durationMs: 18.5, attempts: 1 };
  writeFileSync(join(dir, 'history.jsonl'), `${JSON.stringify(decision)}\n${JSON.stringify(step)}\n{"torn`);
});

afterAll(async () => {
  await server?.close();
  await operator?.close();
  rmSync(dir, { recursive: true, force: true });
});

const CASES: string[][] = [
  // Usage errors: exit 2, one line, where the help is.
  ['config'],
  ['sandbox'],
  ['config', 'shwo'],
  ['sandbox', 'explode'],
  ['frobnicate'],
  ['stauts'],
  ['--bogus'],
  ['run', '--lgo', 'x'],
  ['run', '--log'],
  ['run', '--log', '--socket', 'x'],
  ['-l', 'extra'],
  ['--json'],
  ['sandbox', 'up', '--nodes', '17'],
  ['sandbox', 'up', '--nodes', '4:100,4:99'],
  ['sandbox', 'cut'],
  ['help', 'nope'],
  // Runtime failures: exit 1; file errors name the file and say what is wrong in words.
  ['config', 'show', '--corosync-conf', '$TMP/missing.conf', '--vmmgr-conf', '$TMP/vmmgr.conf'],
  ['config', 'show', '--corosync-conf', '$TMP/a-directory', '--vmmgr-conf', '$TMP/vmmgr.conf'],
  ['config', 'show', '--corosync-conf', '$TMP/two-errors.conf', '--vmmgr-conf', '$TMP/vmmgr.conf'],
  ['config', 'show', '--corosync-conf', '$ROOT/test/fixtures/bad-input/corosync/duplicate-nodeid.conf', '--vmmgr-conf', '$TMP/vmmgr.conf'],
  ['config', 'sync', '--key', '$TMP/a-directory', '--corosync-conf', '$TMP/corosync.conf'],
  ['-l', '--socket', '$TMP/none.sock', '--corosync-conf', '$TMP/missing.conf'],
  ['-l', '--socket', '$TMP/none.sock', '--corosync-conf', '$TMP/a-directory'],
  // config show: CloudIp with its mask, on its device; replication on where the key is missing.
  ['config', 'show', '--corosync-conf', '$TMP/corosync.conf', '--vmmgr-conf', '$TMP/vmmgr.conf'],
  // A daemon without corosync: no table of nodes all "left", exit 3.
  ['-l', '--socket', '$TMP/left.sock'],
  // Operating the cluster (issue 18): usage errors name the value (exit 2) before anything is sent,
  // a refusal is one line (exit 1), no daemon is exit 3; history reads the state dir's file.
  ['switchover'],
  ['switchover', 'abc'],
  ['prio', 'set', '4'],
  ['prio', 'set', '4', 'ten'],
  ['replication', 'set', '4', 'yes'],
  ['standby', '4', 'maybe'],
  ['maintenance'],
  ['maintenance', 'on', '--force'],
  ['history', '--since', 'yesterday'],
  ['switchover', '9', '--socket', '$TMP/op.sock'],
  ['switchover', '2', '--socket', '$TMP/op.sock'],
  ['switchover', '2', '--socket', '$TMP/none.sock'],
  ['history', '--state-dir', '$TMP'],
];

async function run(argv: string[]): Promise<string> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: {} };
  const code = await main(
    argv.map((a) => a.replace('$TMP', dir).replace('$ROOT', ROOT)),
    io,
  );
  // Each line indented; "(no newline at the end)" where the output does not end with one.
  const show = (text: string) => (text === '' ? ' (empty)\n' : `\n${text.replace(/\n$/, '').replace(/^/gm, '  ')}\n${text.endsWith('\n') ? '' : '  (no newline at the end)\n'}`);
  const text = `$ corolistener ${argv.join(' ')}\nexit ${code}\nstdout:${show(stdout)}stderr:${show(stderr)}`;
  return text.split(dir).join('$TMP').split(ROOT).join('$ROOT');
}

it('prints what test/unit/cli/golden/cli-edges.txt says, case by case', async () => {
  const actual: string[] = [];
  for (const argv of CASES) actual.push(await run(argv));
  const text = `${actual.join('\n')}`;
  if (process.env.UPDATE_GOLDEN) writeFileSync(GOLDEN, text);
  const golden = readFileSync(GOLDEN, 'utf8').split(/\n(?=\$ corolistener )/);
  expect(actual.length).toBe(golden.length);
  for (let i = 0; i < actual.length; i++) expect(actual[i]!.trimEnd(), `case ${i + 1}: ${CASES[i]!.join(' ')}`).toBe(golden[i]!.trimEnd());
});

it('exit codes are consistent by kind of mistake: every usage error 2, every file error 1', async () => {
  const golden = readFileSync(GOLDEN, 'utf8');
  const cases = golden.split(/\n(?=\$ corolistener )/);
  for (const c of cases) {
    const code = Number(/^exit (\d+)$/m.exec(c)![1]);
    if (/\(see corolistener [^)]*--help\)$/m.test(c)) expect(code, c).toBe(2);
    if (/: no such file|: is a directory/.test(c)) expect(code, c).toBe(1);
    // Every error line is one line of its own, none of Node's raw errno text.
    expect(c, c).not.toMatch(/\bE[A-Z]{3,}\b: /);
  }
});
