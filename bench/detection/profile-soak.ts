// The fast detection profile's soak (issue 16): a 3-node sandbox cluster with the profile
// (src/config/detection-profile.ts) and `corolistener run` plus the fake VMmanager on every
// node is left alone under CPU and I/O load on every node for BENCH_PROFILE_SOAK_MINUTES (30).
// Nothing may happen: 0 membership changes seen by a C libquorum client on every node (each
// new ring is one; corosync's own "A new membership" log lines are counted too) and 0 failovers
// (the master every 5 s is the one it was at the start; no decision on a quorum event logged by
// any listener). Then, load still on, the profile must still be fast: n3's link is cut and
// healed a few times and the survivors' new membership timed from the cut.
//
// The load, in every node's namespaces (the same 2 CPUs and disk for all): `stress-ng --cpu 1
// --io 1 --hdd 1` (one busy loop, one sync(2) loop, one writer of 64 MiB files), so 3 busy
// loops on 2 CPUs plus the disk kept writing and flushing. corosync runs at its default
// real-time priority (as it does on a real node); the listeners and the load do not.
// It is opt-in (`npm run bench -- profile-soak`): 30 minutes do not fit the 20 of the full run.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { fastDetectionOptions, type SandboxCluster, type SandboxListener } from '../../dist/sandbox';
import { FAST_DETECTION, fastDetectionConf } from '../../dist/config/detection-profile';
import { settle, withListeners } from '../cost/listeners';
import { table, verdict } from '../lib/benchmarks-md';
import { buildC, cSource } from '../lib/build-c';
import { ensureDebianPackages } from '../lib/debian-packages';
import { envInt, type BenchPart } from '../lib/part';
import { nodeProbe, type LineProbe } from '../lib/probe';
import { parseQuorumLine, type QuorumSample } from '../lib/quorum-line';
import { median } from '../lib/stats';

const minutes = (): number => envInt('BENCH_PROFILE_SOAK_MINUTES', 30);
const FINAL_CUTS = 3;
const STRESS = ['stress-ng', '--cpu', '1', '--io', '1', '--hdd', '1', '--hdd-bytes', '64M', '--temp-path', '/tmp', '--metrics-brief'];

const loadavg = (): number[] => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);

/** Average "some" stall share of the last 60 s from /proc/pressure (PSI), when the kernel has it. */
function pressure(kind: 'cpu' | 'io'): number | undefined {
  try {
    const m = /some avg10=[\d.]+ avg60=([\d.]+)/.exec(readFileSync(`/proc/pressure/${kind}`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Lines "A new membership" in a node's corosync log (its private /var/log/corosync). */
function membershipLines(cluster: SandboxCluster, node: string): number {
  try {
    return readFileSync(cluster.logPath(node), 'utf8')
      .split('\n')
      .filter((l) => l.includes('A new membership')).length;
  } catch {
    return 0;
  }
}

/** Distinct rings a probe reported from sample `from` on. */
const ringsSince = (p: LineProbe<QuorumSample>, from: number): number => new Set(p.samples.slice(from).map((s) => `${s.ringNodeId}/${s.ringSeq}`)).size;

const quorumDecisions = (l: SandboxListener): number => l.logLines().filter((x) => x.event === 'decision' && x.trigger === 'quorum').length;

export const profileSoakPart: BenchPart = {
  id: 'profile-soak',
  title: 'Fast detection profile: soak under load',
  source: 'bench/detection/profile-soak.ts',
  env: ['BENCH_PROFILE_SOAK_MINUTES'],
  optIn: true,
  sectionId: () => (minutes() === 30 ? 'profile-soak' : `profile-soak-${minutes()}`),
  async run(ctx) {
    const soakMs = minutes() * 60_000;
    await ensureDebianPackages(['stress-ng'], ctx);
    const probeBin = await buildC(cSource('quorum-probe'), ['libquorum']);
    return withListeners(ctx, { cluster: fastDetectionOptions() }, async (cluster, listeners) => {
      const master = await settle(listeners, 2_000);
      const names = cluster.nodes.map((n) => n.name);
      const probes = names.map((n) => nodeProbe(cluster, n, [probeBin], parseQuorumLine));
      const stress: ChildProcess[] = [];
      try {
        await Promise.all(probes.map((p) => p.ready()));
        await sleep(1_000); // the probes' first notification (the current membership) is not a change
        const from = probes.map((p) => p.samples.length);
        const logFrom = names.map((n) => membershipLines(cluster, n));
        const decisionsFrom = listeners.map(quorumDecisions);
        const stressOut: string[] = [];
        for (const n of names) {
          const child = cluster.spawn(n, [...STRESS, '--timeout', `${Math.ceil(soakMs / 1000) + 120}s`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
          child.stdout?.on('data', (d: Buffer) => stressOut.push(`${n}: ${d.toString()}`));
          child.stderr?.on('data', (d: Buffer) => stressOut.push(`${n}: ${d.toString()}`));
          stress.push(child);
        }
        ctx.log(`load started (${STRESS.join(' ')} in each of ${names.length} nodes); soaking ${minutes()} min, master ${master.node.name}`);
        const t0 = Date.now();
        const samples: Array<{ load1: number; cpu?: number; io?: number }> = [];
        let masterChanges = 0;
        let roleChecks = 0;
        while (Date.now() - t0 < soakMs) {
          await sleep(5_000);
          const roles = await Promise.all(listeners.map(async (l) => (await l.status())?.daemon.role));
          roleChecks++;
          const masters = listeners.filter((_, i) => roles[i] === 'master');
          if (masters.length !== 1 || masters[0] !== master) masterChanges++;
          if (roleChecks % 12 === 0) {
            samples.push({ load1: loadavg()[0]!, cpu: pressure('cpu'), io: pressure('io') });
            const changes = probes.map((p, i) => ringsSince(p, from[i]!));
            ctx.log(`${((Date.now() - t0) / 60_000).toFixed(0)} min: load ${loadavg().join(' ')}, membership changes ${changes.join('/')}, master changes ${masterChanges}`);
          }
        }
        // A load that stopped early would make this a soak without load: say so instead.
        const stopped = stress.filter((c) => c.exitCode !== null || c.signalCode !== null);
        if (stopped.length > 0)
          throw new Error(`the load stopped during the soak (${stopped.length} of ${stress.length} stress-ng runs): ${stressOut.join('').trim().split('\n').slice(-5).join(' | ')}`);
        const changes = probes.map((p, i) => ringsSince(p, from[i]!));
        const logChanges = names.map((n, i) => membershipLines(cluster, n) - logFrom[i]!);
        const decisions = listeners.map((l, i) => quorumDecisions(l) - decisionsFrom[i]!);

        // Still fast, load on: cut n3 (a slave or the master, whichever it is) and time the survivors' new membership.
        const detect: number[] = [];
        const survivor = probes[0]!;
        for (let i = 0; i < FINAL_CUTS; i++) {
          let at = survivor.samples.length;
          const cutAt = Date.now();
          await cluster.cut(3);
          const seen = await survivor.waitFor((s) => !s.members.includes(3), `n1's membership without n3 (cut ${i + 1})`, 60_000, at);
          detect.push(Number(seen.realNs / 1_000_000n) - cutAt);
          at = survivor.samples.length;
          await cluster.heal(3);
          await survivor.waitFor((s) => s.members.includes(3), `n1's membership with n3 again (heal ${i + 1})`, 60_000, at);
          await settle(listeners, 2_000);
        }
        const quiet = changes.every((c) => c === 0) && logChanges.every((c) => c === 0);
        const noFailover = masterChanges === 0 && decisions.every((d) => d === 0);
        const loads = samples.map((s) => s.load1);
        const psi = (k: 'cpu' | 'io') => {
          const v = samples.map((s) => s[k]).filter((x): x is number => x !== undefined);
          return v.length === 0 ? 'not available' : `median ${median(v).toFixed(0)} %`;
        };
        return [
          `Workload: a 3-node sandbox cluster with the fast detection profile (token ${FAST_DETECTION.tokenMs} ms, token_coefficient ${FAST_DETECTION.tokenCoefficientMs}, token_retransmits_before_loss_const ${FAST_DETECTION.tokenRetransmitsBeforeLoss}, consensus ${FAST_DETECTION.consensusMs} ms, knet_ping_interval ${FAST_DETECTION.knetPingIntervalMs} / knet_ping_timeout ${FAST_DETECTION.knetPingTimeoutMs} ms) and \`corolistener run\` with the fake VMmanager on every node, left alone for ${minutes()} minutes under load: in every node \`${STRESS.join(' ')}\` (a busy loop, a sync(2) loop and a writer of 64 MiB files per node: 3 busy loops on the machine's 2 CPUs, the disk writing and flushing all the time). corosync runs at its default real-time priority, as on a real node. Watched: a C libquorum client in every node (every new ring is a membership change), corosync's log ("A new membership"), the listeners' roles every 5 s and their decisions on quorum events.`,
          '',
          `Load during the soak (sampled every minute): 1-minute load average median ${median(loads).toFixed(1)} (min ${Math.min(...loads).toFixed(1)}, max ${Math.max(...loads).toFixed(1)}); CPU pressure (PSI "some", 60 s average) ${psi('cpu')}; I/O pressure ${psi('io')}.`,
          '',
          ...table(
            ['node', 'membership changes (libquorum client)', 'new memberships in corosync.log', 'listener decisions on quorum events'],
            names.map((n, i) => [n, String(changes[i]), String(logChanges[i]), String(decisions[i])]),
            ['l'],
          ),
          '',
          `Role checks: ${roleChecks}, master changes: ${masterChanges} (master ${master.node.name} throughout${masterChanges === 0 ? '' : ': NOT'}).`,
          '',
          `Target: 0 false membership changes and 0 failovers in ${minutes()} minutes under CPU and I/O load: ${verdict(quiet && noFailover)}.`,
          '',
          `Still fast under the same load: n3's link cut ${FINAL_CUTS} times right after the soak, cut → n1's new membership: ${detect.map((d) => `${d} ms`).join(', ')} (median ${median(detect).toFixed(0)} ms; corosync's defaults take ~3.5 s on 3 nodes, see the Peers section).`,
          '',
          'The profile, as `corolistener config check` recognises it and the README recommends it:',
          '',
          '```',
          fastDetectionConf(),
          '```',
        ];
      } finally {
        // stress-ng's workers are its children: the whole group goes (the cluster's teardown would get them too).
        for (const c of stress) {
          try {
            if (c.pid !== undefined) process.kill(-c.pid, 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await Promise.all(probes.map((p) => p.stop()));
      }
    });
  },
};
