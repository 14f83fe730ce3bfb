// The peers are installed by the benchmark itself when missing (scripts/ensure-system-packages,
// without recommends), and checked before the first run: a system that cannot be set up fails the whole part, loudly.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { ensureDebianPackages } from '../lib/debian-packages';

const run = promisify(execFile);

const NEEDED: ReadonlyArray<{ what: string; path: string }> = [
  { what: 'keepalived', path: '/usr/sbin/keepalived' },
  { what: 'pacemakerd', path: '/usr/sbin/pacemakerd' },
  { what: 'crm_mon', path: '/usr/sbin/crm_mon' },
  { what: 'crmadmin', path: '/usr/sbin/crmadmin' },
  { what: 'the IPaddr2 resource agent', path: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2' },
];

export async function ensurePeers(log: (m: string) => void): Promise<string> {
  await ensureDebianPackages(['keepalived', 'pacemaker', 'pacemaker-cli-utils', 'resource-agents'], { log });
  const missing = NEEDED.filter((n) => !fs.existsSync(n.path));
  if (missing.length > 0) throw new Error(`peers not usable after the install: missing ${missing.map((m) => `${m.what} (${m.path})`).join(', ')}`);
  const versions = await Promise.all([
    run('keepalived', ['--version']).then((r) => /Keepalived v(\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '?'),
    run('pacemakerd', ['--version']).then((r) => /Pacemaker (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '?'),
    run('dpkg-query', ['-W', '-f=${Version}', 'resource-agents']).then((r) => r.stdout.trim()),
  ]);
  return `keepalived ${versions[0]}, Pacemaker ${versions[1]}, resource-agents ${versions[2]}`;
}
