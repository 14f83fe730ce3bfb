// `corolistener demo` end to end, as a human runs it: the built CLI in its own process. It
// must narrate the failover in the order it happened (each phase by the events' own times),
// say where the failed node's VMs went, and leave nothing behind, also when interrupted with
// Ctrl-C (SIGINT) half-way. How long it takes is printed, not asserted (a loaded machine is slower).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { listClusters } from '../../src/sandbox';
import { describeIntegration } from './support';

const MAIN = path.resolve(__dirname, '../../dist/cli/main.js');

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
  pid: number;
}

/** Run the demo; `interruptWhen` sends SIGINT once stdout matches it. */
function demo(interruptWhen?: RegExp): Promise<Run> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const child = spawn(process.execPath, [MAIN, 'demo'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 280_000); // a hang guard only
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (interruptWhen && !interrupted && interruptWhen.test(stdout)) {
        interrupted = true;
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0, pid: child.pid! });
    });
  });
}

/** The heal phase, to its closing lines. */
function heal0(text: string): string {
  return /healing n4[\s\S]*=> n4's suspended copies/.exec(text)?.[0] ?? '';
}

function netnsOf(clusterIds: readonly string[]): string[] {
  const names = fs.existsSync('/run/netns') ? fs.readdirSync('/run/netns') : [];
  return names.filter((n) => clusterIds.some((id) => n.startsWith(`colsb-${id}-`)));
}

/** Each pattern must match, in this order, in `text`. */
function expectInOrder(text: string, patterns: RegExp[]): void {
  let at = 0;
  for (const p of patterns) {
    const m = new RegExp(p.source, p.flags.replace('g', '') + 'g');
    m.lastIndex = at;
    const found = m.exec(text);
    expect(found, `${p} after offset ${at} in:\n${text}`).not.toBeNull();
    at = found!.index + found![0].length;
  }
}

describeIntegration('corolistener demo (built CLI)', () => {
  it("narrates the failover from n4 to n2 in order, where n4's VMs went, n4 back as a slave, and removes everything", async () => {
    if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} missing: run npm run build first`);
    const r = await demo();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    console.log(`[demo.test] the demo took ${(r.ms / 1000).toFixed(1)} s`);
    expectInOrder(r.stdout, [
      /n4 becomes master/,
      /corolistener -l {3}\(on n2\)\n {4} VMmanager-cloud node list\n/,
      / {14}4 {7}198\.18\.0\.4 {4}joined {13}M {7}100\n/,
      /replies come from n4's vmbr0/,
      /cutting the master n4 off/,
      /=> n2 took over from n4/,
      /=> n4's VMs: suspended on n4 \(VmSuspendCommand\); VMmanager on n2 restores them \(its ServiceStartCommand had COROLISTENER_FAILED_NODES=4\)/,
      /healing n4/,
      /=> n4 is back as a slave; n2 stays master/,
      /=> n4's suspended copies of its VMs stay suspended and are discarded: the VMs run on n2 now/,
      / {14}2 {7}198\.18\.0\.2 {4}joined {13}M {7}\d+\n/,
      /tearing down\n {2}namespaces, processes and files removed/,
    ]);
    // The takeover's visible effects are observed concurrently (the IP by polling): any order.
    const startup = /n4 becomes master[\s\S]*corolistener -l {3}\(on n2\)/.exec(r.stdout)![0];
    expect(startup, r.stdout).toMatch(/n4 holds the cluster IP 198\.18\.0\.100 on vmbr0/);
    expect(startup, r.stdout).toMatch(/n4 ran ServiceStartCommand/);
    // Within the failover, what happens on n2, n4 and the client is concurrent: any order.
    const failover = /cutting the master n4 off[\s\S]*=> n2 took over from n4/.exec(r.stdout)![0];
    for (const p of [
      /n4 suspends \(no quorum\)/,
      /n2 holds the cluster IP 198\.18\.0\.100 on vmbr0/,
      /client: replies again after [\d.]+s without one/,
      /client: its ARP entry for 198\.18\.0\.100 is [0-9a-f:]{17} = n2's vmbr0/,
      /n2 ran ServiceStartCommand \(COROLISTENER_FAILED_NODES=4\)/,
      // The old master drops its duties and suspends its VMs before the demo moves on.
      /n4 dropped the cluster IP 198\.18\.0\.100/,
      /n4 ran ServiceStopCommand/,
      /n4 ran VmSuspendCommand/,
    ]) {
      expect(failover, `${p} in the failover section:\n${r.stdout}`).toMatch(p);
    }
    // IP changes are timed by ip monitor: n2 holds the address before its ServiceStartCommand runs
    // (one node's plan, in order). What n4 and n2 do is concurrent: no order between them. The
    // client's recovery is the first reply once n2 holds the address.
    const at = (p: RegExp) => Number(new RegExp(`\\+(\\d+\\.\\d+)s  ${p.source}`).exec(failover)?.[1]);
    expect(at(/client: replies again/), failover).toBeGreaterThanOrEqual(at(/n2 holds the cluster IP/));
    // Every phase is told in the order things happened: its times never go back.
    for (const phase of r.stdout.split(/\n== /)) {
      const times = [...phase.matchAll(/^ +([+-]\d+\.\d+)s {2}/gm)].map((m) => Number(m[1]));
      expect(times, phase).toEqual([...times].sort((a, b) => a - b));
    }
    // The slaves' startup commands are told with the startup, not under the client's heading.
    const clientPhase = /== a client[\s\S]*?\n== /.exec(r.stdout)![0];
    expect(clientPhase, r.stdout).not.toMatch(/ran Service/);
    // The engine's explanations restate the role at the end ("...; slave"): said once.
    expect(r.stdout).not.toMatch(/; (slave|master)\n/);
    // After the heal: n4 hears the failure records and accounts for its suspended VMs.
    expect(heal0(r.stdout), r.stdout).toMatch(/n4: its suspended VMs \(.+\) were restored on another node meanwhile/);
    expect(at(/n2 holds the cluster IP/), failover).toBeLessThanOrEqual(at(/n2 ran ServiceStartCommand/));
    // The returning old master never takes the role back, not even for a moment.
    const heal = /healing n4[\s\S]*=> n4 is back/.exec(r.stdout)![0];
    expect(heal, r.stdout).not.toMatch(/n4 becomes master/);
    expect(heal, r.stdout).not.toMatch(/n4 ran VmSuspendCommand/);
    expect(r.stdout).not.toMatch(/failed:/);
    const id = /sandbox cluster demo-\d+, id ([0-9a-f]{6})/.exec(r.stdout)?.[1];
    expect(listClusters().filter((c) => c.id === id)).toEqual([]);
    expect(netnsOf([id!])).toEqual([]);
  });

  it('Ctrl-C half-way removes the cluster and every listener, exit code 130', async () => {
    const r = await demo(/listeners started/);
    expect(r.code, r.stderr).toBe(130);
    const id = /sandbox cluster demo-\d+, id ([0-9a-f]{6})/.exec(r.stdout)?.[1];
    expect(id, r.stdout).toBeDefined();
    expect(r.stderr).toMatch(/^corolistener: interrupted \(SIGINT\); removed demo-\d+\n$/);
    expect(listClusters().filter((c) => c.id === id)).toEqual([]);
    expect(netnsOf([id!])).toEqual([]);
    expect(fs.existsSync(`/run/corolistener-sandbox/${id}`)).toBe(false);
  });
});
