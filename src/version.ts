// The package version, for `corolistener --version` and the daemon's status report. Read at
// run time from package.json (two levels up from both src/ and dist/), so it cannot go stale.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

export const VERSION = readVersion();
