// The package as a user gets it (issue 17): `npm pack` in the checkout, the tarball installed
// into an empty prefix with `npm install -g --prefix`, and the installed bin run. Checks what the
// tarball ships (LICENSE, the docs the README links to, no source map pointing at a source it
// does not ship) and that the installed `corolistener` answers --version and -l --help.
// Needs the build (dist/) and the npm registry for the runtime dependencies; not root.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'corolistener-pack-'));

function npm(args: string[], cwd: string): string {
  return execFileSync(NPM, args, {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' },
  });
}

afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

describe('the packed tarball', () => {
  let tarball = '';
  let files: string[] = [];

  it('ships LICENSE, README, the docs and no dangling source map', () => {
    if (!fs.existsSync(path.join(ROOT, 'dist/cli/main.js'))) throw new Error('dist/ missing: run npm run build first');
    // --ignore-scripts: the build is already there (prepare would rebuild dist under other tests).
    const [packed] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], ROOT)) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(work, packed!.filename);
    files = packed!.files.map((f) => f.path);
    for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/cli/main.js', 'binding.gyp', 'systemd/corolistener.service']) expect(files).toContain(f);
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const linked = [...new Set([...readme.matchAll(/\b((?:docs\/)?[A-Z]*[A-Za-z-]*\.md)\b/g)].map((m) => m[1]!))].filter(
      (f) => (f.startsWith('docs/') || /^[A-Z]+\.md$/.test(f)) && fs.existsSync(path.join(ROOT, f)),
    );
    expect(linked.length).toBeGreaterThan(3);
    for (const f of linked) expect(files, `${f} is linked from the README`).toContain(f);
    expect(fs.readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
    // A map is only worth shipping with the sources it points at.
    for (const map of files.filter((f) => f.endsWith('.map'))) {
      const sources = (JSON.parse(fs.readFileSync(path.join(ROOT, map), 'utf8')) as { sources: string[] }).sources;
      for (const s of sources) expect(files, `${map} points at ${s}`).toContain(path.posix.normalize(path.posix.join(path.posix.dirname(map), s)));
    }
  });

  it('installs into an empty prefix with npm install -g --prefix; the bin answers --version and -l --help', () => {
    expect(tarball, 'the pack step above').not.toBe('');
    const prefix = path.join(work, 'prefix');
    fs.mkdirSync(prefix);
    npm(['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', tarball], work);
    const bin = path.join(prefix, 'bin', 'corolistener');
    const version = (JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(execFileSync(bin, ['--version'], { encoding: 'utf8' })).toBe(`${version}\n`);
    expect(execFileSync(bin, ['-l', '--help'], { encoding: 'utf8' })).toMatch(/^Usage: corolistener -l \[--json\]/);
    expect(fs.existsSync(path.join(prefix, 'lib/node_modules/corolistener/LICENSE'))).toBe(true);
  });
});
