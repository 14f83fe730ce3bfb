import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseVmmgrConf } from '../../../src/config/vmmgr-conf';
import { callRecord, readCalls, recorderScript, renderFakeVmmgrConf, VMMGR_COMMANDS } from '../../../src/sandbox/fake-vmmgr';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

describe('fake VMmanager', () => {
  it('renders a vmmgr.conf our parser reads: cluster IP settings and every command as the recorder', () => {
    const text = renderFakeVmmgrConf({ callsFile: '/run/x/calls.jsonl', nodeBin: '/usr/bin/node', recorder: '/opt/c/rec.js' });
    const conf = parseVmmgrConf(text);
    expect(conf).toMatchObject({ cloudIp: '198.18.0.100', cloudMask: 24, cloudIpDev: 'vmbr0' });
    expect(conf.serviceStartCommand).toEqual(['/usr/bin/node', '/opt/c/rec.js', '/run/x/calls.jsonl', 'ServiceStartCommand']);
    expect(conf.nodeFailedCommand?.at(-1)).toBe('NodeFailedCommand');
    for (const name of VMMGR_COMMANDS) expect(text).toContain(`\n${name} /usr/bin/node /opt/c/rec.js /run/x/calls.jsonl ${name}\n`);
  });

  it('refuses a path with a blank, which a vmmgr.conf command cannot hold', () => {
    expect(() => renderFakeVmmgrConf({ callsFile: '/run/my calls' })).toThrow(/contains a blank/);
  });

  it('records only the COROLISTENER_* variables, sorted', () => {
    const call = callRecord('VmSuspendCommand', [], { PATH: '/bin', COROLISTENER_ROLE: 'suspended', COROLISTENER_FAILED_NODES: '' }, new Date(0), 7);
    expect(call).toEqual({
      name: 'VmSuspendCommand',
      at: '1970-01-01T00:00:00.000Z',
      ms: 0,
      pid: 7,
      args: [],
      env: { COROLISTENER_FAILED_NODES: '', COROLISTENER_ROLE: 'suspended' },
    });
  });

  it('the built recorder appends one line per call; readCalls reads them back in order', () => {
    const script = recorderScript();
    if (!fs.existsSync(script)) throw new Error(`${script} missing: run npm run build first`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-vmmgr-'));
    dirs.push(dir);
    const file = path.join(dir, 'calls.jsonl');
    expect(readCalls(file)).toEqual([]);
    const env = { PATH: process.env.PATH, COROLISTENER_ROLE: 'master', COROLISTENER_FAILED_NODES: '4' };
    execFileSync(process.execPath, [script, file, 'ServiceStartCommand'], { env });
    execFileSync(process.execPath, [script, file, 'NodeFailedCommand', 'extra'], { env });
    const calls = readCalls(file);
    expect(calls.map((c) => [c.name, c.args, c.env.COROLISTENER_FAILED_NODES])).toEqual([
      ['ServiceStartCommand', [], '4'],
      ['NodeFailedCommand', ['extra'], '4'],
    ]);
    expect(() => execFileSync(process.execPath, [script, file, 'Bogus'], { stdio: 'pipe' })).toThrow(/usage: record-command/);
  });
});
