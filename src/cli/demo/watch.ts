// What the demo narrates: the cluster as seen from outside the daemons, polled and diffed.
// Each poll compares which node holds the cluster IP (`ip` in each node), the commands the
// fake VMmanager recorded, the listeners' decisions that changed their role and their failed
// steps (their logs), with the previous poll, and returns what changed as timestamped lines.
// Changes of the cluster IP are timed by `ip monitor` in each node (AddressMonitor), not by the
// poll that saw them. The roles the listeners report on their control sockets, and the polled
// IP holders, make the picture the demo waits on.
import { EFFECT_TRAITS } from '../../engine/effect-traits';
import type { AddressEvent, SandboxCluster, SandboxListener, VmmgrCall, VmmgrCommandName } from '../../sandbox';
import { AddressMonitor, holdersOf } from '../../sandbox';

export interface ClusterPicture {
  /** node name -> role the listener reports ('master', 'slave', 'suspended', 'unknown', 'no answer'). */
  roles: Record<string, string>;
  /** Nodes holding the cluster IP. */
  ipHolders: string[];
}

export interface WatchEvent {
  /** Date.now() of the change (a command's own recorded time). */
  at: number;
  text: string;
}

const ROLE_TEXT: Record<string, string> = {
  master: 'becomes master',
  slave: 'becomes a slave',
  suspended: 'suspends (no quorum)',
  unknown: 'has no role yet',
};

/** The words of the engine's "VMs wait for the other members' failure records" (src/engine/engine.ts). */
const VMS_WAIT = /VMs stay suspended until failure records/;

/**
 * A line of the daemon's log worth narrating, or null: a role change; the VM verdict that
 * follows the other members' failure records (the decision that no longer waits for them);
 * VMs restored elsewhere (vms-discarded); a failed step.
 */
export function describeLogLine(node: string, line: Record<string, unknown>, previousRole: string | undefined, waitedForRecords = false): WatchEvent | null {
  const at = typeof line.time === 'string' ? Date.parse(line.time) : NaN;
  if (Number.isNaN(at)) return null;
  const explanation = typeof line.explanation === 'string' ? line.explanation : undefined;
  // 'unknown' is the daemon's state before its first quorum report: not worth a line.
  if (line.event === 'decision' && typeof line.role === 'string' && line.role !== previousRole && line.role !== 'unknown') {
    const why = explanation !== undefined ? `: ${explanation}` : '';
    return { at, text: `${node} ${ROLE_TEXT[line.role] ?? `decides ${line.role}`}${why}` };
  }
  if (line.event === 'decision' && waitedForRecords && explanation !== undefined && !VMS_WAIT.test(explanation)) {
    return { at, text: `${node}: the other members' failure records are in: ${explanation}` };
  }
  if (line.event === 'vms-discarded') {
    const vms = Array.isArray(line.vms) ? line.vms.join(', ') : '?';
    return { at, text: `${node}: its suspended VMs (${vms}) were restored on another node meanwhile: they stay suspended here, VMmanager discards these copies` };
  }
  if (line.event === 'step' && line.outcome === 'failed') {
    return { at, text: `${node}: ${String(line.effect)} failed: ${typeof line.error === 'string' ? line.error : '?'}` };
  }
  return null;
}

/** How a recorded command is narrated: its name and the context that matters. */
export function describeCall(node: string, call: VmmgrCall): string {
  const failed = call.env.COROLISTENER_FAILED_NODES;
  const ctx = failed ? ` (COROLISTENER_FAILED_NODES=${failed})` : '';
  return `${node} ran ${call.name}${ctx}`;
}

/**
 * How a node's hold on the cluster IP changed since the last poll: first the `ip monitor` events
 * not seen before, each at its own time; then the poll (started at `polled.at`), only where it
 * contradicts them and is newer than the last event ever seen (one missed while the monitor was
 * still subscribing). An event newer than the poll's start wins over the poll.
 */
export function addressChanges(wasHeld: boolean, fresh: readonly AddressEvent[], lastEventAt: number | undefined, polled: { held: boolean; at: number }): Array<{ at: number; held: boolean }> {
  const changes: Array<{ at: number; held: boolean }> = [];
  let held = wasHeld;
  for (const e of fresh) {
    if (e.added === held) continue;
    held = e.added;
    changes.push({ at: e.at, held });
  }
  if (polled.held !== held && (lastEventAt === undefined || lastEventAt < polled.at)) changes.push({ at: polled.at, held: polled.held });
  return changes;
}

/** Whether the log's last decision has a step line for each of its effects after it (see ClusterWatch.planDone). */
export function planDoneInLog(lines: ReadonlyArray<Record<string, unknown>>): boolean {
  let last = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (lines[i]!.event === 'decision') {
      last = i;
      break;
    }
  }
  if (last === -1) return false;
  // Effects the daemon carries out at once, inside the decision, log no step line (only a failure).
  const atOnce = (effect: string) => (EFFECT_TRAITS as Readonly<Record<string, { atOnce: boolean } | undefined>>)[effect]?.atOnce === true;
  const pending = [...((lines[last]!.effects as unknown[] | undefined) ?? [])].map(String).filter((e) => !atOnce(e));
  for (const line of lines.slice(last + 1)) {
    if (line.event !== 'step') continue;
    const i = pending.indexOf(String(line.effect));
    if (i !== -1) pending.splice(i, 1);
  }
  return pending.length === 0;
}

export class ClusterWatch {
  private picture: ClusterPicture | null = null;
  private seenCalls = new Map<string, number>();
  private seenLog = new Map<string, number>();
  private decidedRole = new Map<string, string>();
  /** Nodes whose last decision waited for the other members' failure records. */
  private waitingForRecords = new Set<string>();
  private readonly addresses: Map<string, { monitor: AddressMonitor; seen: number; held: boolean }>;
  private readonly ipAdds: Array<{ node: string; at: number }> = [];

  constructor(
    private readonly cluster: SandboxCluster,
    private readonly listeners: readonly SandboxListener[],
    private readonly clusterIp: string,
  ) {
    this.addresses = new Map(listeners.map((l) => [l.node.name, { monitor: new AddressMonitor(cluster, l.node.name, clusterIp), seen: 0, held: false }]));
  }

  /** Stops the `ip monitor` processes. */
  close(): void {
    for (const a of this.addresses.values()) a.monitor.stop();
  }

  /** The latest picture (after the last poll). */
  get current(): ClusterPicture {
    if (this.picture === null) throw new Error('ClusterWatch: poll() first');
    return this.picture;
  }

  /** The master as everyone sees it: the one node reporting master and holding the IP alone. */
  get master(): string | undefined {
    const p = this.current;
    const masters = Object.keys(p.roles).filter((n) => p.roles[n] === 'master');
    return masters.length === 1 && p.ipHolders.length === 1 && p.ipHolders[0] === masters[0] ? masters[0] : undefined;
  }

  /** Whether the fake VMmanager on `node` recorded `command` at or after `sinceMs`. */
  ran(node: string, command: VmmgrCommandName, sinceMs = 0): boolean {
    const l = this.listeners.find((x) => x.node.name === node);
    return l !== undefined && l.calls().some((c) => c.name === command && c.ms >= sinceMs);
  }

  /** Whether the fake VMmanager on `node` recorded a ServiceStartCommand at or after `sinceMs`. */
  started(node: string, sinceMs = 0): boolean {
    return this.ran(node, 'ServiceStartCommand', sinceMs);
  }

  /** Whether `node`'s last decision waits for the other members' failure records (its VMs undecided). */
  awaitingRecords(node: string): boolean {
    return this.waitingForRecords.has(node);
  }

  /**
   * Whether `node`'s listener has carried out its last decision: its log has a step line for
   * each effect that decision listed (in whatever outcome). From the daemon's own log, so the
   * demo moves on when the work is done, not when a poll happens to see it.
   */
  planDone(node: string): boolean {
    const l = this.listeners.find((x) => x.node.name === node);
    return l !== undefined && planDoneInLog(l.logLines());
  }

  /** When `node` was first seen holding the cluster IP at or after `sinceMs` (ip monitor, else the poll). */
  ipAddedAt(node: string, sinceMs: number): number | undefined {
    return this.ipAdds.find((a) => a.node === node && a.at >= sinceMs)?.at;
  }

  /** The cluster IP's changes on every node since the last poll (see addressChanges). */
  private addressEvents(polledHolders: readonly string[], polledAt: number): WatchEvent[] {
    const events: WatchEvent[] = [];
    for (const [node, a] of this.addresses) {
      const all = a.monitor.events;
      const changes = addressChanges(a.held, all.slice(a.seen), all.at(-1)?.at, { held: polledHolders.includes(node), at: polledAt });
      a.seen = all.length;
      for (const c of changes) {
        a.held = c.held;
        if (c.held) this.ipAdds.push({ node, at: c.at });
        events.push({ at: c.at, text: c.held ? `${node} holds the cluster IP ${this.clusterIp} on vmbr0` : `${node} dropped the cluster IP ${this.clusterIp}` });
      }
    }
    return events;
  }

  private logEvents(l: SandboxListener): WatchEvent[] {
    const lines = l.logLines();
    const node = l.node.name;
    const events: WatchEvent[] = [];
    for (const line of lines.slice(this.seenLog.get(node) ?? 0)) {
      const e = describeLogLine(node, line, this.decidedRole.get(node), this.waitingForRecords.has(node));
      if (e) events.push(e);
      if (line.event === 'decision' && typeof line.role === 'string') {
        this.decidedRole.set(node, line.role);
        if (typeof line.explanation === 'string' && VMS_WAIT.test(line.explanation)) this.waitingForRecords.add(node);
        else this.waitingForRecords.delete(node);
      }
    }
    this.seenLog.set(node, lines.length);
    return events;
  }

  async poll(): Promise<WatchEvent[]> {
    const now = Date.now();
    const roles = Object.fromEntries(await Promise.all(this.listeners.map(async (l) => [l.node.name, (await l.status(1_000).catch(() => undefined))?.daemon.role ?? 'no answer'] as const)));
    const polledAt = Date.now();
    const ipHolders = await holdersOf(this.cluster, this.clusterIp);
    // Output `ip monitor` wrote meanwhile is read before the poll is compared with it.
    await new Promise<void>((resolve) => setImmediate(resolve));
    const events: WatchEvent[] = [];
    const prev = this.picture;
    for (const [node, role] of Object.entries(roles)) {
      if (role === 'no answer' && prev?.roles[node] !== role) events.push({ at: now, text: `${node}: its listener does not answer` });
    }
    events.push(...this.addressEvents(ipHolders, polledAt));
    for (const l of this.listeners) {
      const calls = l.calls();
      const seen = this.seenCalls.get(l.node.name) ?? 0;
      for (const c of calls.slice(seen)) events.push({ at: c.ms, text: describeCall(l.node.name, c) });
      this.seenCalls.set(l.node.name, calls.length);
      events.push(...this.logEvents(l));
    }
    this.picture = { roles, ipHolders };
    return events.sort((a, b) => a.at - b.at);
  }
}
