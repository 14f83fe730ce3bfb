import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../../src/actions/command-context';
import { RELOCATED_LOCK, SERVICE_LOCK } from '../../../src/actions/lock-files';
import { NodeActions } from '../../../src/actions/node-actions';
import { PlanRunner, type StepReport } from '../../../src/actions/plan-runner';
import { fakeIpBatch, FakeRunner } from './fake-runner';

type Effect =
  | { type: 'removeStaleRelocated' }
  | { type: 'addClusterIp' }
  | { type: 'createServiceLock' }
  | { type: 'startService' }
  | { type: 'stopService' }
  | { type: 'removeServiceLock' }
  | { type: 'removeClusterIp' };

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'corolistener-node-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** ip/arping/systemctl as a fake host that holds addresses. */
function fakeHost() {
  const addrs = new Map<string, number>();
  const show = () => JSON.stringify([{ ifname: 'vmbr0', address: '02:00:00:00:00:02', addr_info: [...addrs].map(([local, prefixlen]) => ({ family: 'inet', local, prefixlen })) }]);
  const runner = new FakeRunner((argv, options) => {
    const cmd = argv.join(' ');
    if (cmd === 'ip -j addr show dev vmbr0') return { stdout: show() };
    if (cmd === 'ip -j -batch -') return fakeIpBatch(options.input ?? '', addrs, show);
    // Duplicate check: a probe went out and nobody answered.
    if (argv.includes('-D')) return { stdout: `ARPING ${argv.at(-1)} from 0.0.0.0 vmbr0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n` };
    return {};
  });
  return { runner, addrs };
}

describe('NodeActions driven by a PlanRunner (the daemon wiring in miniature)', () => {
  it('a takeover plan, replayed after a restart, then a step-down plan', async () => {
    const { runner, addrs } = fakeHost();
    writeFileSync(path.join(dir, RELOCATED_LOCK), '');
    const actions = new NodeActions({ runner, lockDir: dir, clusterIp: { ip: '198.18.0.100', prefixLength: 24, announce: { count: 2, intervalMs: 1 } } });
    const ctx: CommandContext = { role: 'master', nodeId: 2, clusterIp: '198.18.0.100', ihttpdPort: 1500, failedNodes: [4] };
    const steps: StepReport<Effect>[] = [];
    const plans = new PlanRunner<Effect>({
      onStep: (s) => steps.push(s),
      execute: (e, signal) => {
        switch (e.type) {
          case 'removeStaleRelocated':
            return actions.removeStaleRelocatedLock();
          case 'addClusterIp':
            return actions.addClusterIp(signal);
          case 'createServiceLock':
            return actions.createServiceLock();
          case 'startService':
            return actions.startService(ctx, signal);
          case 'stopService':
            return actions.stopService({ ...ctx, role: 'slave' }, signal);
          case 'removeServiceLock':
            return actions.removeServiceLock();
          case 'removeClusterIp':
            return actions.removeClusterIp(signal);
        }
      },
    });
    const takeover: Effect[] = [{ type: 'removeStaleRelocated' }, { type: 'addClusterIp' }, { type: 'createServiceLock' }, { type: 'startService' }];
    plans.submit(takeover);
    await plans.idle();
    expect(steps.map((s) => s.outcome)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(addrs.has('198.18.0.100')).toBe(true);
    expect(existsSync(path.join(dir, SERVICE_LOCK))).toBe(true);
    expect(existsSync(path.join(dir, RELOCATED_LOCK))).toBe(false);
    const start = runner.calls.find((c) => c.argv[0] === 'systemctl');
    expect(start?.argv).toEqual(['systemctl', 'start', 'ihttpd.service']);
    expect(start?.options.env).toMatchObject({ COROLISTENER_FAILED_NODES: '4', COROLISTENER_IHTTPD_PORT: '1500' });

    // Replaying the same plan changes nothing on the host: no second add, no ARP. (The first
    // takeover's later ARPs go out in the background: let them finish before counting.)
    await actions.clusterIp!.announced();
    runner.calls.length = 0;
    plans.submit(takeover);
    await plans.idle();
    expect(runner.commands.filter((c) => c.startsWith('ip addr') || c.startsWith('arping'))).toEqual([]);

    plans.submit([{ type: 'stopService' }, { type: 'removeServiceLock' }, { type: 'removeClusterIp' }]);
    await plans.idle();
    expect(addrs.has('198.18.0.100')).toBe(false);
    expect(existsSync(path.join(dir, SERVICE_LOCK))).toBe(false);
    expect(runner.commands).toContain('systemctl stop ihttpd.service');
  });

  it('without a configured cluster IP the IP effects are no-ops', async () => {
    const runner = new FakeRunner();
    const actions = new NodeActions({ runner, lockDir: dir });
    expect(await actions.addClusterIp()).toEqual({ changed: false });
    expect(await actions.removeClusterIp()).toEqual({ changed: false });
    expect(runner.calls).toEqual([]);
  });
});
