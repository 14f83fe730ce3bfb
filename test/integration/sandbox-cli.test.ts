// `corolistener sandbox` end to end: the built CLI (dist/cli/main.js) in separate processes
// against real corosync, as an operator runs it. The cluster is removed in afterAll with
// `sandbox down` (and through the API if the CLI fails), whatever happened before.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listClusters, openCluster, type NodeStatus } from '../../src/sandbox';
import { isAlive } from '../../src/util/process-identity';
import { describeIntegration } from './support';

const execFileP = promisify(execFile);
const MAIN = path.resolve(__dirname, '../../dist/cli/main.js');
const NAME = `clitest-${process.pid}-${Date.now().toString(36)}`;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** `corolistener ARGS...` in its own process; resolves with its exit code and output. */
function cli(args: string[], input?: string): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [MAIN, ...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin!.end(input ?? '');
  });
}

async function nodeStatus(): Promise<NodeStatus[]> {
  const r = await cli(['sandbox', 'status', NAME, '--json']);
  expect(r).toMatchObject({ code: 0, stderr: '' });
  return (JSON.parse(r.stdout) as { nodes: NodeStatus[] }).nodes;
}

/** Poll `sandbox status --json` until `check` holds (corosync needs token + consensus to notice). */
async function waitStatus(what: string, check: (nodes: NodeStatus[]) => boolean, timeoutMs = 20_000): Promise<NodeStatus[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const nodes = await nodeStatus();
    if (check(nodes)) return nodes;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(nodes)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const byName = (nodes: NodeStatus[], name: string) => nodes.find((n) => n.name === name)!;
const allFormed = (nodes: NodeStatus[]) => nodes.every((n) => n.quorum?.quorate === true && n.quorum.members.length === nodes.length && !n.cut);

async function netnsNames(): Promise<string[]> {
  const { stdout } = await execFileP('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n !== '');
}

describeIntegration('corolistener sandbox (built CLI)', () => {
  let clusterId: string | undefined;

  beforeAll(() => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} missing: run npm run build first`);
  });

  afterAll(async () => {
    if (!listClusters().some((c) => c.name === NAME)) return;
    const r = await cli(['sandbox', 'down', NAME]);
    // The CLI is under test: if it could not remove the cluster, the API still must.
    if (r.code !== 0 && listClusters().some((c) => c.name === NAME)) await openCluster(NAME).destroy();
  });

  it('up creates a persistent 3-node cluster, prints its name and nodes, waits until quorate', async () => {
    const r = await cli(['sandbox', 'up', '--nodes', '3', '--name', NAME]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(NAME);
    expect(lines[1]).toMatch(/^NODE\s+NODEID\s+PRIO\s+REPLICATION\s+NETNS\s+IP\s+COROSYNC PID$/);
    const summary = listClusters().find((c) => c.name === NAME);
    expect(summary).toMatchObject({ persistent: true, complete: true });
    clusterId = summary!.id;
    for (const [i, node] of ['n1', 'n2', 'n3'].entries()) {
      expect(lines[2 + i]).toMatch(new RegExp(`^${node}\\s+${i + 1}\\s+100\\s+on\\s+colsb-${clusterId}-${node}\\s+198\\.18\\.0\\.${i + 1}\\s+\\d+$`));
    }
    // It outlived the `up` process: corosync still runs on every node.
    expect(allFormed(await nodeStatus())).toBe(true);
  });

  it('status lists the cluster and shows 3 quorate nodes', async () => {
    expect((await cli(['sandbox', 'status'])).stdout).toMatch(new RegExp(`^${NAME}\\s+${clusterId}\\s+n1,n2,n3\\s+persistent\\s+complete`, 'm'));
    const r = await cli(['sandbox', 'status', NAME]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(`cluster ${NAME} (id ${clusterId}): 3 of 3 nodes quorate`);
    for (const node of ['n1', 'n2', 'n3']) {
      expect(r.stdout).toMatch(new RegExp(`^${node}\\s+\\d\\s+198\\.18\\.0\\.\\d\\s+running \\(pid \\d+\\)\\s+no\\s+yes\\s+1,2,3$`, 'm'));
    }
  });

  it('cut n2: n2 loses quorum, the others go on as 1,3; heal: all three again', async () => {
    expect(await cli(['sandbox', 'cut', 'n2', '--cluster', NAME])).toEqual({ code: 0, stdout: 'n2: cut off from the other nodes\n', stderr: '' });
    const cut = await waitStatus('n2 not quorate', (ns) => byName(ns, 'n2').quorum?.quorate === false);
    expect(byName(cut, 'n2')).toMatchObject({ cut: true, quorum: { quorate: false, members: [2] } });
    await waitStatus('n1, n3 quorate as [1,3]', (ns) => ['n1', 'n3'].every((n) => byName(ns, n).quorum?.members.join(',') === '1,3'));
    const text = await cli(['sandbox', 'status', NAME]);
    expect(text.stdout).toMatch(/^n2\s+2\s+198\.18\.0\.2\s+running \(pid \d+\)\s+yes\s+no\s+2$/m);

    expect((await cli(['sandbox', 'heal', '2', '--cluster', NAME])).code).toBe(0);
    await waitStatus('all three formed again', allFormed, 30_000);
  });

  it("exec runs inside the node, passing stdio through and exiting with the command's code", async () => {
    const q = await cli(['sandbox', 'exec', '--cluster', NAME, 'n1', '--', 'corosync-quorumtool', '-s']);
    expect(q.code).toBe(0);
    expect(q.stdout).toMatch(/^Quorate:\s+Yes$/m);
    expect(q.stdout).toMatch(/^\s+1\s+1 n1 \(local\)$/m);
    // The node's own network namespace: its vmbr0 carries its address.
    expect((await cli(['sandbox', 'exec', '--cluster', NAME, 'n3', 'ip', '-br', 'addr', 'show', 'vmbr0'])).stdout).toContain('198.18.0.3/24');
    expect(await cli(['sandbox', 'exec', '--cluster', NAME, 'n2', 'sh', '-c', 'cat; echo err >&2; exit 7'], 'hello\n')).toEqual({
      code: 7,
      stdout: 'hello\n',
      stderr: 'err\n',
    });
  });

  it('kill and start corosync on a node', async () => {
    const killed = await cli(['sandbox', 'kill', 'n3', '--cluster', NAME]);
    expect(killed.stdout).toMatch(/^n3: corosync \(pid \d+\) killed\n$/);
    expect(byName(await nodeStatus(), 'n3')).toMatchObject({ pid: null, quorum: null });
    expect(await cli(['sandbox', 'kill', 'n3', '--cluster', NAME])).toEqual({ code: 1, stdout: '', stderr: 'corolistener: n3: corosync is not running\n' });
    expect((await cli(['sandbox', 'start', 'n3', '--cluster', NAME])).stdout).toMatch(/^n3: corosync started \(pid \d+\)\n$/);
    await waitStatus('all three formed again', allFormed, 30_000);
  });

  it('errors are one line with the documented exit code', async () => {
    const badNode = await cli(['sandbox', 'cut', 'n9', '--cluster', NAME]);
    expect(badNode).toEqual({ code: 2, stdout: '', stderr: `corolistener: sandbox cluster ${NAME}: no node "n9" (nodes: n1, n2, n3)\n` });
    const missing = await cli(['sandbox', 'status', `${NAME}-nope`]);
    expect(missing.code).toBe(2); // naming a cluster that does not exist: a usage error, like a node (issue 17)
    expect(missing.stderr).toMatch(new RegExp(`^corolistener: no sandbox cluster named "${NAME}-nope" \\(existing: .*${NAME}.*\\)\\n$`));
    const usage = await cli(['sandbox', 'up', '--nodes', '2:x']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('corolistener: --nodes: item 1 "2:x": the priority must be an integer in 0..2147483647, got "x" (see corolistener sandbox --help)\n');
  });

  it('down removes everything: namespaces, state, processes', async () => {
    const pids = (await nodeStatus()).map((n) => n.pid).filter((p): p is number => p !== null);
    expect(pids).toHaveLength(3);
    expect(await cli(['sandbox', 'down', NAME])).toEqual({ code: 0, stdout: `removed ${NAME}\n`, stderr: '' });
    expect((await netnsNames()).filter((n) => n.startsWith(`colsb-${clusterId}-`))).toEqual([]);
    expect(listClusters().some((c) => c.name === NAME)).toBe(false);
    // isAlive: a killed corosync may linger a moment as a zombie until init reaps it.
    expect(pids.filter(isAlive)).toEqual([]);
    expect((await cli(['sandbox', 'status', NAME])).code).toBe(2);
  });
});
