// The environment systemd gives the daemon (`Environment=` lines of systemd/corolistener.service),
// so that the sandbox, and through it the tests and benchmarks, run `corolistener run` the way
// operators do: the unit is the one place these settings live (docs/design.md §5, "Memory under
// churn"). Only what the daemon's runtime reads is there (node's NODE_OPTIONS, glibc's
// MALLOC_ARENA_MAX); a variable set by the caller comes on top, NODE_OPTIONS appended to the unit's.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The unit shipped with the package, whether this module runs from src/ (tests) or from dist/. */
export function serviceUnitPath(): string {
  return path.resolve(__dirname, '..', '..', 'systemd', 'corolistener.service');
}

/**
 * The assignments of the unit's `Environment=` lines, in order (a later one wins), as systemd reads
 * them: several space-separated assignments per line, each one optionally in double quotes.
 */
export function parseUnitEnvironment(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('Environment=')) continue;
    // Words: "quoted assignment" or bare (no spaces).
    for (const m of line.slice('Environment='.length).matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
      const word = m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]!;
      const eq = word.indexOf('=');
      if (eq > 0) env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}

/** The unit's environment with `extra` on top (NODE_OPTIONS: the unit's flags, then the caller's). */
export function serviceEnvironment(extra: NodeJS.ProcessEnv = {}, unitText: string = fs.readFileSync(serviceUnitPath(), 'utf8')): NodeJS.ProcessEnv {
  const unit = parseUnitEnvironment(unitText);
  const nodeOptions = [unit.NODE_OPTIONS, extra.NODE_OPTIONS].filter((o) => o !== undefined && o !== '').join(' ');
  return { ...unit, ...extra, ...(nodeOptions === '' ? {} : { NODE_OPTIONS: nodeOptions }) };
}
