// Debian packages a benchmark needs beyond the project's own (a load generator, a peer to
// compare with), installed by the benchmark itself when missing, through the same script the
// README's commands use (scripts/ensure-system-packages: waits for apt's lock, one line per
// package).
import { spawn } from 'node:child_process';
import type { PartContext } from './part';
import { repoPath } from './paths';

export function ensureDebianPackages(packages: readonly string[], ctx: PartContext): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [repoPath('scripts', 'ensure-system-packages'), 'npm run bench', ...packages], { stdio: ['ignore', 'inherit', 'pipe'] });
    const err: string[] = [];
    child.stderr.on('data', (d: Buffer) => {
      err.push(d.toString());
      for (const line of d.toString().trimEnd().split('\n')) ctx.log(line);
    });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`installing ${packages.join(' ')} failed (exit ${code}): ${err.join('').trim().split('\n').slice(-3).join(' | ')}`))));
  });
}
