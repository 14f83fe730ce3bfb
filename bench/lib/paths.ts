// Paths in the repository, from the compiled benchmark (.bench-out/lib/) or its source
// (bench/lib/, under vitest): both sit two levels below the repository root.
import { join } from 'node:path';

export const REPO_ROOT = join(__dirname, '..', '..');

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}
