import { describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/actions/command-context';
import { CommandFailedError } from '../../../src/actions/command-runner';
import { DEFAULT_SERVICE_START_COMMAND, DEFAULT_SERVICE_STOP_COMMAND, ServiceControl } from '../../../src/actions/service-control';
import { VmCommandError, VmControl } from '../../../src/actions/vm-control';
import { FakeRunner, type FakeAnswer } from './fake-runner';

const ctx: CommandContext = { role: 'suspended', nodeId: 2, clusterIp: '198.18.0.100', ihttpdPort: 1500, failedNodes: [4] };

/** A simulated libvirt: domains and their states, answering virsh. */
class FakeLibvirt {
  domains = new Map<string, 'running' | 'paused'>();
  broken = new Set<string>();
  readonly runner = new FakeRunner((argv) => this.answer(argv));
  private answer(argv: string[]): FakeAnswer {
    if (argv[0] !== 'virsh') return { exitCode: 127 };
    const [verb, ...rest] = argv[1] === '-c' ? argv.slice(3) : argv.slice(1);
    if (verb === 'list') {
      const state = rest[1].replace('--state-', '');
      return {
        stdout:
          [...this.domains]
            .filter(([, s]) => s === state)
            .map(([n]) => `${n}\n`)
            .join('') + '\n',
      };
    }
    const name = rest[0];
    if (this.broken.has(name)) return { exitCode: 1, stderr: `error: Failed to ${verb} domain '${name}'\n` };
    const s = this.domains.get(name);
    if (verb === 'suspend' && s === 'running') this.domains.set(name, 'paused');
    else if (verb === 'resume' && s === 'paused') this.domains.set(name, 'running');
    else return { exitCode: 1, stderr: `error: domain '${name}' is not ${verb === 'suspend' ? 'running' : 'paused'}\n` };
    return {};
  }
}

describe('VmControl with virsh', () => {
  it('suspends every running domain, reports them, and is idempotent', async () => {
    const lv = new FakeLibvirt();
    lv.domains = new Map([
      ['vm1', 'running'],
      ['vm2', 'paused'],
      ['vm3', 'running'],
    ]);
    const vms = new VmControl({ runner: lv.runner });
    const seen: string[] = [];
    expect(await vms.suspendRunning(ctx, { onVm: (v) => seen.push(v) })).toEqual({ via: 'virsh', suspended: ['vm1', 'vm3'] });
    expect(seen).toEqual(['vm1', 'vm3']);
    expect(lv.runner.commands).toEqual(['virsh list --name --state-running', 'virsh suspend vm1', 'virsh suspend vm3']);
    expect(lv.runner.calls[1].options.env).toMatchObject({ COROLISTENER_ROLE: 'suspended', COROLISTENER_FAILED_NODES: '4' });
    expect(await vms.suspendRunning(ctx)).toEqual({ via: 'virsh', suspended: [] });
  });

  it('tries every VM and reports partial failure with what was done', async () => {
    const lv = new FakeLibvirt();
    lv.domains = new Map([
      ['a', 'running'],
      ['b', 'running'],
      ['c', 'running'],
    ]);
    lv.broken.add('b');
    const err = await new VmControl({ runner: lv.runner }).suspendRunning(ctx).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VmCommandError);
    expect((err as VmCommandError).done).toEqual(['a', 'c']);
    expect((err as VmCommandError).failures.map((f) => f.vm)).toEqual(['b']);
    expect((err as Error).message).toMatch(/could not suspend b: virsh suspend b: exited with code 1/);
  });

  it('resumes only the given paused VMs; running and vanished ones are reported, not touched', async () => {
    const lv = new FakeLibvirt();
    lv.domains = new Map([
      ['mine', 'paused'],
      ['up', 'running'],
      ['other', 'paused'],
    ]);
    const r = await new VmControl({ runner: lv.runner, virsh: ['virsh', '-c', 'qemu:///system'] }).resume(['mine', 'up', 'gone'], ctx);
    expect(r).toEqual({ via: 'virsh', resumed: ['mine'], alreadyRunning: ['up'], missing: ['gone'] });
    expect(lv.domains.get('other')).toBe('paused');
    expect(lv.runner.commands.filter((c) => c.includes(' resume '))).toEqual(['virsh -c qemu:///system resume mine']);
  });

  it('with a configured command, runs it once with the context env instead of virsh; the resume command gets the VMs as arguments and COROLISTENER_VMS', async () => {
    const runner = new FakeRunner();
    const vms = new VmControl({ runner, suspendCommand: ['/usr/local/bin/vms', 'suspend'], resumeCommand: ['/usr/local/bin/vms', 'resume'] });
    const s = await vms.suspendRunning(ctx);
    expect(s.via).toBe('command');
    await vms.resume(['x', 'y'], ctx);
    expect(runner.commands).toEqual(['/usr/local/bin/vms suspend', '/usr/local/bin/vms resume x y']);
    expect(runner.calls[1].options.env).toMatchObject({ COROLISTENER_VMS: 'x,y' });
    expect(runner.calls[0].options.env).not.toHaveProperty('COROLISTENER_VMS');
    expect(runner.calls[0].options.env).toEqual({
      COROLISTENER_ROLE: 'suspended',
      COROLISTENER_NODEID: '2',
      COROLISTENER_CLUSTER_IP: '198.18.0.100',
      COROLISTENER_IHTTPD_PORT: '1500',
      COROLISTENER_FAILED_NODES: '4',
    });
  });
});

describe('ServiceControl', () => {
  const master: CommandContext = { role: 'master', nodeId: 2, failedNodes: [4, 8] };

  it('defaults to systemctl start/stop of ihttpd; no NodeFailed command by default', async () => {
    const runner = new FakeRunner();
    const svc = new ServiceControl({ runner });
    await svc.start(master);
    await svc.stop(master);
    expect(await svc.nodeFailed(master)).toBeUndefined();
    expect(runner.calls.map((c) => c.argv)).toEqual([[...DEFAULT_SERVICE_START_COMMAND], [...DEFAULT_SERVICE_STOP_COMMAND]]);
    expect(runner.calls[0].options.env).toMatchObject({ COROLISTENER_ROLE: 'master', COROLISTENER_FAILED_NODES: '4,8', COROLISTENER_CLUSTER_IP: '' });
    expect(runner.calls[0].options.timeoutMs).toBeGreaterThan(0);
  });

  it('runs configured commands and fails loudly on a non-zero exit', async () => {
    const runner = new FakeRunner((argv) => (argv[0] === 'failing' ? { exitCode: 3, stderr: 'nope\n' } : {}));
    const svc = new ServiceControl({ runner, startCommand: ['mgrctl', 'start'], stopCommand: ['failing'], nodeFailedCommand: ['notify', '--failed'], timeoutMs: 5000 });
    await svc.start(master);
    expect((await svc.nodeFailed(master))?.exitCode).toBe(0);
    await expect(svc.stop(master)).rejects.toThrow(CommandFailedError);
    expect(runner.commands).toEqual(['mgrctl start', 'notify --failed', 'failing']);
    expect(runner.calls.every((c) => c.options.timeoutMs === 5000)).toBe(true);
  });
});
