// The package's entry points, as a user of the built package reaches them by name: `corolistener`
// (the product), `corolistener/sandbox` and `corolistener/simulator` (test machinery). A separate node process requires
// them through the package's own `exports` (a package can require itself by name), so this
// checks package.json and dist/ together, exactly as node resolves them. Needs `npm run build`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../../..');

interface Resolved {
  main: string[];
  sandbox: string[];
  simulator: string[];
  packageName: string;
  deepImport: string;
}

function resolveByName(): Resolved {
  const script = `
    const keys = (m) => Object.keys(m).sort();
    let deepImport = 'allowed';
    try { require('corolistener/dist/sandbox/index.js'); } catch (e) { deepImport = e.code; }
    console.log(JSON.stringify({
      main: keys(require('corolistener')),
      sandbox: keys(require('corolistener/sandbox')),
      simulator: keys(require('corolistener/simulator')),
      packageName: require('corolistener/package.json').name,
      deepImport,
    }));`;
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' })) as Resolved;
}

describe('package entry points', () => {
  let r: Resolved;
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist/index.js'))) throw new Error('dist/ missing: run npm run build first');
    r = resolveByName();
  });

  it('every target in package.json exports exists in the build', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | Record<string, string>> };
    expect(Object.keys(pkg.exports).sort()).toEqual(['.', './package.json', './sandbox', './simulator']);
    const targets = Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)));
    expect(targets.filter((t) => !fs.existsSync(path.join(ROOT, t)))).toEqual([]);
  });

  it("'corolistener' is the product: the corosync binding, the daemon, config, engine, cluster", () => {
    expect(r.main).toEqual(expect.arrayContaining(['Quorum', 'Cpg', 'Cmap', 'Cfg', 'Votequorum', 'CorosyncError', 'Corolistener', 'NativeCorosyncPort']));
    expect(r.main).toEqual(expect.arrayContaining(['queryDaemon', 'parseNodeListReport', 'createLogger', 'readCorosyncConf', 'transition', 'ConfigChannel', 'ClusterKey']));
  });

  it("'corolistener' no longer exposes the sandbox, as a namespace or by name", () => {
    expect(r.main).not.toContain('sandbox');
    expect(r.main.filter((k) => r.sandbox.includes(k))).toEqual([]);
  });

  it("'corolistener/sandbox' is the test machinery: clusters, listeners, clients, the fault monitor", () => {
    expect(r.sandbox).toEqual(
      expect.arrayContaining(['createCluster', 'openCluster', 'listClusters', 'cleanupStale', 'SandboxCluster', 'SandboxListener', 'startListeners', 'SandboxClient', 'ClusterMonitor', 'partition']),
    );
  });

  it("'corolistener/simulator' runs the real engine and interpreter over a simulated corosync; the product does not carry it", () => {
    expect(r.simulator).toEqual(expect.arrayContaining(['Simulator', 'runScenario', 'parseScenario', 'checkInvariants']));
    expect(r.main).not.toContain('Simulator');
    expect(r.main).toEqual(expect.arrayContaining(['Interpreter', 'nameMaster', 'EFFECT_TRAITS']));
  });

  it('package.json is exported; files not named in exports are not reachable by name', () => {
    expect(r.packageName).toBe('corolistener');
    expect(r.deepImport).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});
