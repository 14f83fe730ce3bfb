// `corolistener demo`: a failover on this machine, narrated for a human at a terminal.
// A 3-node sandbox (nodeids 2/4/8, priorities 99/100/98), a listener (`corolistener run`)
// and the fake VMmanager on each node, a client pinging the cluster IP. The master is cut off
// the network; what happens is printed with times relative to the cut, in the order it
// happened, from timestamped events: the daemons' logs (decisions, steps), `ip monitor` in each
// node, the fake VMmanager's records, the client's pings. A phase ends when every listener has
// carried out its last decision (its log has a step for each effect), not when a poll happens to
// see a state. Then the node comes back, the demo says what became of its suspended VMs, and
// everything is torn down, also on failure and on Ctrl-C.
import { createCluster, DEFAULT_CLOUD_IP, macOf, sandboxPrereqProblems, startListeners, type SandboxClient, type SandboxCluster, type SandboxListener } from '../../sandbox';
import { ClusterWatch, type WatchEvent } from '../demo/watch';
import { Pinger } from '../demo/pinger';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import { removeOnInterrupt } from './sandbox';
import type { CommandOf } from './types';

const NODES = [
  { nodeId: 2, prio: 99 },
  { nodeId: 4, prio: 100 },
  { nodeId: 8, prio: 98 },
];
const CLIENT_ADDRESS = '198.18.0.250';
const POLL_MS = 100;
/**
 * Bounds of each phase: far above what they take (seconds), so only a real failure hits them
 * (a CI run once saw corosync take over 30 s to merge a healed node back).
 */
const SETTLE_TIMEOUT_MS = 120_000;

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

class DemoFailure extends Error {}

class Narrator {
  constructor(private readonly io: CliIo) {}

  say(text = ''): void {
    this.io.stdout.write(`${text}\n`);
  }

  heading(text: string): void {
    this.say();
    this.say(`== ${text}`);
  }

  event(since: number, e: WatchEvent): void {
    const rel = e.at - since;
    this.say(`  ${`${rel >= 0 ? '+' : '-'}${secs(Math.abs(rel))}`.padStart(8)}  ${e.text}`);
  }

  block(text: string): void {
    for (const line of text.trimEnd().split('\n')) this.say(`    ${line}`);
  }
}

/**
 * Poll the watch until `done` holds (false if `timeoutMs` passed first), then narrate what the
 * phase saw, in the order it happened: by each event's own time, not by which poll found it (a
 * log line or a recorded command can be read a poll later than an `ip monitor` event after it).
 */
async function narrateUntil(
  watch: ClusterWatch,
  out: Narrator,
  since: number,
  done: () => boolean,
  timeoutMs = SETTLE_TIMEOUT_MS,
  extra: () => Promise<WatchEvent[]> = async () => [],
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  const seen: WatchEvent[] = [];
  const collect = async (): Promise<void> => {
    seen.push(...(await watch.poll()), ...(await extra()));
  };
  const narrate = (): void => {
    for (const e of seen.sort((a, b) => a.at - b.at)) out.event(since, e);
  };
  for (;;) {
    await collect();
    if (done()) {
      // `done` reads the recorded commands afresh: one more poll collects what it saw after the
      // last one, so that it is told in this section and not in the next.
      await collect();
      narrate();
      return true;
    }
    if (Date.now() > deadline) {
      narrate();
      return false;
    }
    await delay(POLL_MS);
  }
}

async function showTable(out: Narrator, listener: SandboxListener): Promise<void> {
  const r = await listener.cli(['-l']);
  out.say(`  corolistener -l   (on ${listener.node.name})`);
  if (r.code !== 0) throw new DemoFailure(`corolistener -l on ${listener.node.name} failed: ${r.stderr.trim() || `exit code ${r.code}`}`);
  out.block(r.stdout);
}

/** Which node a MAC address belongs to (vmbr0), for the client's neighbour entry. */
async function nodeOfMac(cluster: SandboxCluster, mac: string | undefined): Promise<string> {
  if (mac === undefined) return 'nobody (no entry)';
  for (const n of cluster.nodes) if ((await macOf(cluster, n.name)) === mac) return `${n.name}'s vmbr0`;
  return 'no node';
}

async function runDemo(out: Narrator, io: CliIo): Promise<void> {
  const t0 = Date.now();
  const elapsed = () => secs(Date.now() - t0);
  out.say('corolistener demo: failover of a 3-node VMmanager cluster, in network namespaces on this machine');
  out.say(`  nodes n2, n4, n8 (nodeids 2/4/8, priorities 99/100/98); cluster IP ${DEFAULT_CLOUD_IP}/24 on the master's vmbr0`);
  out.say('  on each node: real corosync 3, a listener (corolistener run), a fake VMmanager recording the commands it is asked to run');

  out.heading('bringing the cluster up');
  const cluster = await createCluster({ nodes: NODES, name: `demo-${process.pid}` });
  let listeners: SandboxListener[] = [];
  let pinger: Pinger | undefined;
  let unclean: string[] = [];
  let watch: ClusterWatch | undefined;
  try {
    out.say(`  corosync on every node, quorate with 3 members  [${elapsed()}]`);
    out.say(`  sandbox cluster ${cluster.name}, id ${cluster.id} (meanwhile: corolistener sandbox status ${cluster.name})`);
    const start = Date.now();
    listeners = await startListeners(cluster);
    out.say(`  listeners started: ${listeners.map((l) => `${l.node.name} (pid ${l.pid})`).join(', ')}  [${elapsed()}]`);
    out.say('  (times below: since the listeners started)');
    const w = new ClusterWatch(cluster, listeners, DEFAULT_CLOUD_IP);
    watch = w;
    const allDone = () => listeners.every((l) => w.planDone(l.node.name));
    // A slave's start-up ServiceStopCommand is its plan's last step, but decisions without work
    // (announcements noted) can come after its decision, so the last decision alone may say
    // "done" while the stop still runs: wait for it, or it would show under the client's pings.
    const slavesStopped = () => listeners.every((l) => l.node.name === w.master || w.ran(l.node.name, 'ServiceStopCommand'));
    const settled = await narrateUntil(w, out, start, () => w.master !== undefined && w.started(w.master) && allDone() && slavesStopped());
    if (!settled) throw new DemoFailure(`no master after ${SETTLE_TIMEOUT_MS / 1000} s: ${JSON.stringify(w.current)}`);
    const master = w.master!;
    const byName = new Map(listeners.map((l) => [l.node.name, l]));
    const other = listeners.find((l) => l.node.name !== master)!;
    out.say();
    await showTable(out, other);

    out.heading(`a client (${CLIENT_ADDRESS}) pings the cluster IP every 200 ms`);
    const client: SandboxClient = await cluster.addClient({ address: CLIENT_ADDRESS });
    pinger = new Pinger(client, DEFAULT_CLOUD_IP);
    pinger.start();
    const answered = await narrateUntil(w, out, start, () => pinger!.events.some((e) => e.reply), 10_000);
    if (!answered) throw new DemoFailure(`the client gets no reply from ${DEFAULT_CLOUD_IP}`);
    const before = await client.neighbour(DEFAULT_CLOUD_IP);
    out.say(`  replies come from ${await nodeOfMac(cluster, before?.lladdr)} (${before?.lladdr ?? '?'})`);

    out.heading(`cutting the master ${master} off the network (its link to the hub goes down); times since the cut`);
    const cut = Date.now();
    await cluster.cut(master);
    out.event(cut, { at: cut, text: `${master} cut off` });
    let resumed = false;
    const pingEvents = async (): Promise<WatchEvent[]> => {
      if (resumed) return [];
      // Replies count once another node holds the cluster IP (a reply in flight at the cut, from
      // the old master, is not the client recovering).
      const takenAt = listeners.map((l) => (l.node.name === master ? undefined : w.ipAddedAt(l.node.name, cut))).find((t) => t !== undefined);
      if (takenAt === undefined) return [];
      const r = pinger!.firstReplyAfter(takenAt);
      if (!r) return [];
      resumed = true;
      const last = pinger!.lastReplyBefore(cut);
      const gap = last ? ` after ${secs(r.reply.at - last.at)} without one` : '';
      const lost = pinger!.events.filter((e) => !e.reply && e.at > cut && e.at < r.reply.at).length;
      const entry = await client.neighbour(DEFAULT_CLOUD_IP);
      return [
        { at: r.reply.at, text: `client: replies again${gap} (${lost} unanswered)` },
        { at: r.reply.at, text: `client: its ARP entry for ${DEFAULT_CLOUD_IP} is ${entry?.lladdr ?? 'missing'} = ${await nodeOfMac(cluster, entry?.lladdr)}` },
      ];
    };
    const failedOver = await narrateUntil(
      w,
      out,
      cut,
      () => {
        const m = w.master;
        // The old master's suspend is part of the failover: narrated here, not after the heal.
        return m !== undefined && m !== master && w.started(m, cut) && w.current.roles[master] === 'suspended' && w.ran(master, 'VmSuspendCommand', cut) && resumed && allDone();
      },
      SETTLE_TIMEOUT_MS,
      pingEvents,
    );
    if (!failedOver) throw new DemoFailure(`the failover did not complete within ${SETTLE_TIMEOUT_MS / 1000} s: ${JSON.stringify(w.current)}`);
    const newMaster = w.master!;
    out.say(`  => ${newMaster} took over from ${master}: highest priority among the quorate nodes`);
    out.say(
      `  => ${master}'s VMs: suspended on ${master} (VmSuspendCommand); VMmanager on ${newMaster} restores them (its ServiceStartCommand had COROLISTENER_FAILED_NODES=${byName.get(master)!.node.nodeId})`,
    );

    out.heading(`healing ${master}: it rejoins; times since the heal`);
    const heal = Date.now();
    await cluster.heal(master);
    out.event(heal, { at: heal, text: `${master} reconnected` });
    // Settled, and the old master has its VM verdict (the other members' failure records are in).
    const rejoined = await narrateUntil(w, out, heal, () => {
      const p = w.current;
      return w.master !== undefined && Object.values(p.roles).filter((r) => r === 'slave').length === listeners.length - 1 && !w.awaitingRecords(master) && allDone();
    });
    if (!rejoined) throw new DemoFailure(`the cluster did not settle after the heal within ${SETTLE_TIMEOUT_MS / 1000} s: ${JSON.stringify(w.current)}`);
    out.say(w.master === newMaster ? `  => ${master} is back as a slave; ${newMaster} stays master (its priority was raised: sticky)` : `  => ${w.master} is master now`);
    const back = byName.get(master)!;
    const discarded = back.logLines().some((l) => l.event === 'vms-discarded' && Date.parse(String(l.time)) >= heal);
    out.say(
      discarded
        ? `  => ${master}'s suspended copies of its VMs stay suspended and are discarded: the VMs run on ${newMaster} now`
        : w.ran(master, 'VmResumeCommand', heal)
          ? `  => ${master} resumed its suspended VMs (no other node restored them)`
          : `  => ${master} had no VMs to account for (its VmSuspendCommand suspended none)`,
    );
    out.say();
    await showTable(out, byName.get(w.master!)!);
  } catch (err) {
    // The listeners' files go with the cluster: show their ends now, while they exist.
    for (const l of listeners) io.stderr.write(`=== listener on ${l.node.name}\n${l.diagnostics(10)}\n`);
    for (const n of cluster.nodes) io.stderr.write(`=== corosync on ${n.name}\n${cluster.corosyncLogTail(n.name)}\n`);
    throw err;
  } finally {
    pinger?.stop();
    watch?.close();
    out.heading('tearing down');
    // SIGTERM must end a listener cleanly (issue 5); one that ignored it was killed by stop():
    // said, and the demo fails, rather than hiding a daemon that hangs on shutdown.
    unclean = (
      await Promise.all(
        listeners.map((l) =>
          l.stop().then(
            () => undefined,
            (err: Error) => err.message,
          ),
        ),
      )
    ).filter((m) => m !== undefined);
    for (const m of unclean) io.stderr.write(`corolistener demo: ${m}\n`);
    await cluster.destroy();
    out.say(`  namespaces, processes and files removed  [${elapsed()} in all]`);
  }
  if (unclean.length > 0) throw new DemoFailure(`a listener did not stop cleanly on SIGTERM: ${unclean.join('; ')}`);
}

export async function run(command: CommandOf<'demo'>, io: CliIo): Promise<number> {
  void command;
  const problems = sandboxPrereqProblems(['ping', 'arping']);
  if (problems.length > 0) {
    throw new CliError(`corolistener demo cannot run here: ${problems.join('; ')} (it needs root: sudo bash scripts/demo)`, EXIT.FAILURE);
  }
  const uninstall = removeOnInterrupt(io);
  try {
    await runDemo(new Narrator(io), io);
  } catch (err) {
    if (err instanceof DemoFailure) throw new CliError(`demo failed: ${err.message}`, EXIT.FAILURE);
    throw err;
  } finally {
    uninstall();
  }
  return EXIT.OK;
}
