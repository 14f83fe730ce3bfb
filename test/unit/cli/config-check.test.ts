// `corolistener config check` (issue 15): the risky setups, one warning each, exit 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check, checkSetup } from '../../../src/cli/commands/config-check';
import { parseVmmgrConf } from '../../../src/config';
import { fastDetectionConf } from '../../../src/config/detection-profile';

const dir = mkdtempSync(join(tmpdir(), 'cl-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function corosyncConf(quorum: string): string {
  const path = join(dir, `corosync-${Math.random().toString(36).slice(2)}.conf`);
  writeFileSync(
    path,
    `totem {\n  version: 2\n  cluster_name: VMmanager\n  config_version: 1\n}\nquorum {\n  provider: corosync_votequorum\n${quorum}}\nnodelist {\n  node {\n    ring0_addr: 198.18.0.2\n    nodeid: 2\n    prio: 99\n  }\n  node {\n    ring0_addr: 198.18.0.4\n    nodeid: 4\n    prio: 100\n  }\n}\n`,
  );
  return path;
}

function io() {
  const out: string[] = [];
  return { out, io: { stdout: { write: (s: string) => out.push(s) }, stderr: { write: (s: string) => out.push(`ERR ${s}`) } } as never };
}

const command = (corosync: string, vmmgr: string) =>
  ({ name: 'config', action: 'check', json: false, corosyncConf: corosync, vmmgrConf: vmmgr, socket: '/x', keyFile: '/k', port: 1, timeoutMs: 1 }) as never;

describe('config check', () => {
  it('warns about two_node without a qdevice and about fencing off, from the files when corosync does not run here', async () => {
    const vmmgr = join(dir, 'none.conf');
    const { out, io: cliIo } = io();
    expect(await check(command(corosyncConf('  two_node: 1\n'), vmmgr), cliIo, () => undefined)).toBe(0);
    const text = out.join('');
    expect(text).toMatch(/^warning: .*corosync-.*\.conf: two_node: 1 without a quorum.device section: a split leaves both nodes quorate/m);
    expect(text).toMatch(/^warning: .*none\.conf: no WatchdogDevice: self-fencing is off/m);
  });

  it('a qdevice (configured, or registered in votequorum) and a watchdog: nothing to say', async () => {
    const fifo = join(dir, 'wd');
    writeFileSync(fifo, '');
    const vmmgr = join(dir, 'vmmgr.conf');
    writeFileSync(vmmgr, `WatchdogDevice ${fifo}\nWatchdogTimeout 10\n`);
    const a = io();
    await check(command(corosyncConf('  two_node: 1\n  device {\n    model: net\n  }\n'), vmmgr), a.io, () => undefined);
    expect(a.out.join('')).toBe(
      'detection: corosync\'s defaults: a failed node is out of the membership about 2.25 s after it fails (token 1000 ms + consensus 1200 ms + join); the fast detection profile (README, "Fast detection") gets it to about 0.27 s\nconfig check: no risky setting found\n',
    );
    // corosync's own word wins over the file: two_node with no qdevice registered right now.
    const b = io();
    await check(command(corosyncConf('  two_node: 1\n  device {\n    model: net\n  }\n'), vmmgr), b.io, () => ({ twoNode: true, qdeviceRegistered: false }));
    expect(b.out.join('')).toMatch(/two_node: 1 without a registered qdevice \(votequorum\)/);
  });

  it('a watchdog that cannot be armed, and a timeout too short for a restart', () => {
    const findings = checkSetup({
      corosyncConf: 'c',
      twoNode: false,
      qdeviceConfigured: false,
      vmmgrConf: 'v',
      vmmgr: parseVmmgrConf('WatchdogDevice /nonexistent/watchdog\nWatchdogTimeout 3'),
      live: undefined,
    });
    expect(findings.map((f) => f.code)).toEqual(['watchdog-device', 'watchdog-timeout']);
    expect(findings[0].message).toMatch(/WatchdogDevice \/nonexistent\/watchdog: ENOENT/);
  });

  it('names the detection profile and warns about timers shorter than it, or the profile with redundant links', async () => {
    const fast = fastDetectionConf().replace('totem {', 'totem {\n  version: 2\n  cluster_name: VMmanager');
    const path = join(dir, 'fast.conf');
    writeFileSync(path, `${fast}\nnodelist {\n  node {\n    ring0_addr: 198.18.0.2\n    nodeid: 2\n  }\n  node {\n    ring0_addr: 198.18.0.3\n    nodeid: 3\n  }\n}\n`);
    const a = io();
    await check(command(path, join(dir, 'none.conf')), a.io, () => undefined);
    expect(a.out[0]).toBe('detection: the fast profile: a failed node is out of the membership about 0.27 s after it fails (token 100 ms + consensus 120 ms + join)\n');
    expect(a.out.join('')).not.toMatch(/detection-|token \d+ ms: below/);

    // Two links with the profile's knet timers: losing one link would cost a membership change.
    writeFileSync(path, `${fast}\nnodelist {\n  node {\n    ring0_addr: 198.18.0.2\n    ring1_addr: 10.0.0.2\n    nodeid: 2\n    name: n2\n  }\n}\n`);
    const b = io();
    await check({ ...command(path, join(dir, 'none.conf')), json: true } as never, b.io, () => undefined);
    const json = JSON.parse(b.out.join('')) as { findings: { code: string }[]; detection: { profile: string; redundantLinks: boolean } };
    expect(json.detection).toMatchObject({ profile: 'fast', redundantLinks: true });
    expect(json.findings.map((f) => f.code)).toContain('detection-redundant-links');

    // A token below the profile's, on 3 nodes with the default coefficient: custom, and a warning.
    const short = join(dir, 'short.conf');
    writeFileSync(
      short,
      `totem {\n  version: 2\n  token: 50\n  token_coefficient: 10\n}\nnodelist {\n${[1, 2, 3].map((i) => `  node {\n    ring0_addr: 198.18.0.${i}\n    nodeid: ${i}\n  }\n`).join('')}}\n`,
    );
    const c = io();
    await check(command(short, join(dir, 'none.conf')), c.io, () => undefined);
    const text = c.out.join('');
    expect(text).toMatch(
      /^detection: custom timers \(token 50 \(profile: 100\), token_coefficient 10 \(profile: 0\), token_retransmits_before_loss_const unset \(profile: 3\), consensus unset \(profile: 120\), knet_ping_interval unset \(profile: 200\), knet_ping_timeout unset \(profile: 1000\)\): .*token 60 ms \+ consensus 72 ms/m,
    );
    expect(text).toMatch(/^warning: .*short\.conf: token 60 ms: below the fast detection profile's 100 ms/m);
  });
});
