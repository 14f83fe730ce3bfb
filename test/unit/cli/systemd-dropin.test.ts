// The systemd drop-in shipped for corosync.service (issue 6, docs/config-update.md "Start
// sequence"): `corolistener config sync` runs before corosync, and its failure never keeps
// corosync from starting. Parsed here the way systemd reads it; and, where systemd-analyze is
// installed, loaded by systemd itself next to a stand-in corosync.service.
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../src/cli/options';

const DROP_IN = join(__dirname, '../../../systemd/corosync.service.d/corolistener-sync.conf');
const SYSTEMD_ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

/** Sections -> key -> values, as systemd unit files are read (comments, blank lines, `;`). */
function parseUnitFile(text: string): Map<string, Map<string, string[]>> {
  const sections = new Map<string, Map<string, string[]>>();
  let current: Map<string, string[]> | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) {
      current = sections.get(header[1]!) ?? new Map();
      sections.set(header[1]!, current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0 || current === undefined) throw new Error(`${DROP_IN}:${i + 1}: not "Key=value" inside a section: ${line}`);
    const key = line.slice(0, eq).trim();
    current.set(key, [...(current.get(key) ?? []), line.slice(eq + 1).trim()]);
  });
  return sections;
}

let dir: string | undefined;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('systemd/corosync.service.d/corolistener-sync.conf', () => {
  const text = readFileSync(DROP_IN, 'utf8');

  it('runs `corolistener config sync` before corosync, with its failure tolerated', () => {
    const units = parseUnitFile(text);
    expect([...units.keys()]).toEqual(['Service']);
    const service = units.get('Service')!;
    expect([...service.keys()]).toEqual(['ExecStartPre']);
    const [pre] = service.get('ExecStartPre')!;
    expect(service.get('ExecStartPre')).toHaveLength(1);
    // "-": a failing sync (no peer, bad key) is recorded but corosync starts anyway.
    expect(pre!.startsWith('-')).toBe(true);
    const argv = pre!.slice(1).split(/\s+/);
    expect(argv[0]!.startsWith('/')).toBe(true); // systemd wants an absolute path
    expect(argv.slice(argv.indexOf('corolistener'))).toEqual(['corolistener', 'config', 'sync']);
    // And the CLI understands exactly these arguments.
    expect(parseCommandLine(argv.slice(argv.indexOf('corolistener') + 1), {})).toMatchObject({ name: 'config', action: 'sync' });
  });

  it('systemd loads it next to corosync.service without a warning (systemd-analyze verify)', async (ctx) => {
    if (SYSTEMD_ANALYZE === undefined) {
      console.log('skipped: systemd-analyze is not installed');
      ctx.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'dropin-'));
    writeFileSync(join(dir, 'corosync.service'), '[Unit]\nDescription=stand-in for corosync\n[Service]\nType=simple\nExecStart=/bin/true\n');
    mkdirSync(join(dir, 'corosync.service.d'));
    copyFileSync(DROP_IN, join(dir, 'corosync.service.d', 'corolistener-sync.conf'));
    // At debug level it also dumps the unit as loaded (drop-ins, command lines).
    const out = await new Promise<{ code: number | null; output: string }>((resolve) => {
      execFile(SYSTEMD_ANALYZE!, ['verify', join(dir!, 'corosync.service')], { env: { ...process.env, SYSTEMD_LOG_LEVEL: 'debug' }, timeout: 60_000, maxBuffer: 8 << 20 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, output: `${stdout}\n${stderr}` });
      });
    });
    expect(out.code).toBe(0);
    // systemd read our file, and nothing in it was ignored or refused.
    expect(out.output).toContain(`DropIn Path: ${join(dir, 'corosync.service.d', 'corolistener-sync.conf')}`);
    expect(out.output).toMatch(/-> ExecStartPre:\s+Command Line: \/usr\/bin\/env corolistener config sync/);
    expect(out.output.split('\n').filter((l) => l.includes('corolistener-sync.conf:'))).toEqual([]);
  });
});
