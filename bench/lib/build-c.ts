// Builds a benchmark's C program with the system compiler against pkg-config packages, so that
// the reference client is always compiled from the source in bench/c on the machine measured.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { repoPath } from './paths';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** bench/c/<name>.c of the repository. */
export function cSource(name: string): string {
  return repoPath('bench', 'c', `${name}.c`);
}

/** Compiles `source` to .bench-out/bin/<name> and returns the binary's path. */
export async function buildC(source: string, pkgConfig: readonly string[]): Promise<string> {
  const outDir = repoPath('.bench-out', 'bin');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, basename(source, '.c'));
  const flags =
    pkgConfig.length === 0
      ? []
      : (await run('pkg-config', ['--cflags', '--libs', ...pkgConfig])).stdout
          .trim()
          .split(/\s+/)
          .filter((f) => f !== '');
  try {
    await run('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', out, source, ...flags]);
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`building ${source} failed: ${err.stderr?.trim() || err.message}`);
  }
  return out;
}
