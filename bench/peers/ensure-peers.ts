// The peers are installed by the benchmark itself when missing (bench/peers/install-peers.sh),
// and checked before the first run: a system that cannot be set up fails the whole part, loudly.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { repoPath } from '../lib/paths';

const run = promisify(execFile);

const NEEDED: ReadonlyArray<{ what: string; path: string }> = [
  { what: 'keepalived', path: '/usr/sbin/keepalived' },
  { what: 'pacemakerd', path: '/usr/sbin/pacemakerd' },
  { what: 'crm_mon', path: '/usr/sbin/crm_mon' },
  { what: 'crmadmin', path: '/usr/sbin/crmadmin' },
  { what: 'the IPaddr2 resource agent', path: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2' },
];

export async function ensurePeers(log: (m: string) => void): Promise<string> {
  try {
    const { stderr } = await run('bash', [repoPath('bench', 'peers', 'install-peers.sh')], { timeout: 900_000 });
    for (const line of stderr.split('\n').filter((l) => l !== '')) log(line);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`installing the peers (keepalived, pacemaker, resource-agents) failed: ${err.stderr?.trim() || err.message}`);
  }
  const missing = NEEDED.filter((n) => !fs.existsSync(n.path));
  if (missing.length > 0) throw new Error(`peers not usable after the install: missing ${missing.map((m) => `${m.what} (${m.path})`).join(', ')}`);
  const versions = await Promise.all([
    run('keepalived', ['--version']).then((r) => /Keepalived v(\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '?'),
    run('pacemakerd', ['--version']).then((r) => /Pacemaker (\S+)/.exec(r.stdout + r.stderr)?.[1] ?? '?'),
    run('dpkg-query', ['-W', '-f=${Version}', 'resource-agents']).then((r) => r.stdout.trim()),
  ]);
  return `keepalived ${versions[0]}, Pacemaker ${versions[1]}, resource-agents ${versions[2]}`;
}
