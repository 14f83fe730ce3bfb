// Whether this machine can host sandbox clusters, and if not, why: shared by the integration
// tests (which fail or skip with the reason) and `corolistener demo` (which refuses with it).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Commands the sandbox runs (looked up in PATH, as spawn will). */
export const SANDBOX_COMMANDS: readonly string[] = ['corosync', 'corosync-quorumtool', 'corosync-cmapctl', 'ip', 'nsenter', 'unshare', 'mount', 'umount'];

export function inPath(cmd: string, pathVar: string = process.env.PATH ?? ''): boolean {
  return pathVar
    .split(':')
    .filter((d) => d !== '')
    .some((d) => {
      try {
        fs.accessSync(path.join(d, cmd), fs.constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

/**
 * What prevents running sandbox clusters here (empty when nothing does): not Linux, not root,
 * or a command missing from PATH (the sandbox's, plus `extraCommands`).
 */
export function sandboxPrereqProblems(extraCommands: readonly string[] = []): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push(`not Linux (${process.platform})`);
  else if (process.getuid?.() !== 0) problems.push('not root (network namespaces and mounts need root)');
  const missing = [...SANDBOX_COMMANDS, ...extraCommands].filter((c) => !inPath(c));
  if (missing.length > 0) problems.push(`missing in PATH: ${missing.join(', ')} (install: bash scripts/ensure-system-packages)`);
  return problems;
}
