import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { contextEnv } from '../../../src/actions/command-context';
import { CommandFailedError, ExecCommandRunner, formatArgv, prefixRunner, runChecked } from '../../../src/actions/command-runner';

const node = process.execPath;
const runner = new ExecCommandRunner();

/** Running (not gone, not a zombie waiting for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

describe('ExecCommandRunner', () => {
  it('runs argv without a shell and reports exit code, output and duration', async () => {
    const r = await runner.run([node, '-e', 'process.stdout.write(process.argv[1]); process.stderr.write("e"); process.exit(3)', '$(echo hi); *']);
    expect(r.exitCode).toBe(3);
    expect(r.signal).toBeNull();
    expect(r.stdout).toBe('$(echo hi); *'); // passed through literally: no shell
    expect(r.stderr).toBe('e');
    expect(r.timedOut).toBe(false);
    expect(r.durationMs).toBeGreaterThan(0);
  });

  it('feeds `input` to stdin and closes it; without input the command reads nothing', async () => {
    const fed = await runner.run(['cat'], { input: 'addr add 198.18.0.100/24 dev vmbr0\naddr show dev vmbr0\n' });
    expect(fed.exitCode).toBe(0);
    expect(fed.stdout).toBe('addr add 198.18.0.100/24 dev vmbr0\naddr show dev vmbr0\n');
    const none = await runner.run(['cat']);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toBe('');
    // A command that exits without reading its input is not an error of ours.
    expect((await runner.run(['true'], { input: 'x'.repeat(1 << 20) })).exitCode).toBe(0);
  });

  it('passes process env plus the COROLISTENER_* context', async () => {
    process.env.COROLISTENER_TEST_INHERITED = 'yes';
    const env = contextEnv({ role: 'master', nodeId: 4, clusterIp: '198.18.0.100', ihttpdPort: 1500, failedNodes: [2, 8] });
    const r = await runner.run(
      [
        node,
        '-e',
        'const e=process.env; console.log(JSON.stringify([e.COROLISTENER_ROLE,e.COROLISTENER_NODEID,e.COROLISTENER_CLUSTER_IP,e.COROLISTENER_IHTTPD_PORT,e.COROLISTENER_FAILED_NODES,e.COROLISTENER_TEST_INHERITED]))',
      ],
      { env },
    );
    delete process.env.COROLISTENER_TEST_INHERITED;
    expect(JSON.parse(r.stdout)).toEqual(['master', '4', '198.18.0.100', '1500', '2,8', 'yes']);
  });

  it('kills the whole process group on timeout', async () => {
    // The command starts a grandchild that would outlive it, prints its pid, then hangs.
    const script = `const c=require('child_process').spawn(process.execPath,['-e','setInterval(()=>{},1000)'],{stdio:'ignore'}); console.log(c.pid); setInterval(()=>{},1000);`;
    // The timeout must leave node time to start and print even on a loaded machine.
    const r = await runner.run([node, '-e', script], { timeoutMs: 3_000 });
    expect(r.timedOut).toBe(true);
    expect(r.exitCode).toBeNull();
    expect(r.signal).toBe('SIGTERM');
    const grandchild = Number(r.stdout.trim());
    expect(grandchild).toBeGreaterThan(0);
    await new Promise((res) => setTimeout(res, 100));
    expect(alive(grandchild)).toBe(false);
  });

  it('does not hang when a grandchild keeps stdout open after the command exits', async () => {
    const script = `const c=require('child_process').spawn(process.execPath,['-e','setTimeout(()=>{},60000)'],{stdio:'inherit'}); c.unref(); console.log(c.pid);`;
    const r = await runner.run([node, '-e', script], { timeoutMs: 10_000 });
    expect(r.exitCode).toBe(0);
    expect(r.durationMs).toBeLessThan(30_000); // the grandchild holds stdout for 60 s
    process.kill(Number(r.stdout.trim()), 'SIGKILL');
  });

  it('bounds captured output', async () => {
    const r = await runner.run([node, '-e', 'process.stdout.write("x".repeat(100000))'], { maxOutputBytes: 1000 });
    expect(r.stdout.length).toBe(1000);
    expect(r.truncated).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('reports a missing program as a non-retryable failure', async () => {
    const r = await runner.run(['/nonexistent/corolistener-test-binary']);
    expect(r.spawnError).toMatch(/ENOENT/);
    expect(r.exitCode).toBeNull();
    const err = await runChecked(runner, ['/nonexistent/corolistener-test-binary']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommandFailedError);
    expect((err as CommandFailedError).retryable).toBe(false);
  });

  it('kills the command when the signal aborts', async () => {
    const ac = new AbortController();
    const p = runner.run([node, '-e', 'setInterval(()=>{},1000)'], { signal: ac.signal, onSpawn: () => setTimeout(() => ac.abort(), 50) });
    const r = await p;
    expect(r.aborted).toBe(true);
    expect(r.exitCode).toBeNull();
  });

  it('hands stdout over as it streams, so a caller can act before the command ends', async () => {
    // The command prints once, then waits until it is stopped: only streaming can show the line.
    const ac = new AbortController();
    const chunks: string[] = [];
    // The SIGTERM handler is installed before the banner is written, or the abort can beat it.
    const script = 'process.on("SIGTERM", () => { process.stdout.write("bye\\n"); process.exit(0); }); process.stdout.write("banner\\n"); setInterval(() => {}, 1000)';
    const r = await runner.run([node, '-e', script], {
      signal: ac.signal,
      onStdout: (c) => {
        chunks.push(c.toString());
        if (chunks.join('').includes('banner')) ac.abort();
      },
    });
    expect(chunks.join('')).toBe('banner\nbye\n');
    expect(r.stdout).toBe('banner\nbye\n');
    expect(r.aborted).toBe(true);
    expect(r.exitCode).toBe(0);
  });

  it('names the command and its stderr when it fails', async () => {
    const err = await runChecked(runner, [node, '-e', 'console.error("boom"); process.exit(2)']).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/exited with code 2: boom/);
    expect((err as CommandFailedError).retryable).toBe(true);
  });

  it('prefixRunner wraps argv', async () => {
    const r = await prefixRunner(runner, [node, '-e', 'console.log(process.argv.slice(1).join("|"))']).run(['a', 'b c']);
    expect(r.stdout.trim()).toBe('a|b c');
  });

  it('formatArgv quotes for display', () => {
    expect(formatArgv(['ip', 'addr', 'add', "it's here"])).toBe(`ip addr add 'it'\\''s here'`);
  });
});
