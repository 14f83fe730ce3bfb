// A deterministic multi-node simulator: N nodes, each running the real engine and the daemon's
// real interpreter (src/daemon/interpreter.ts) against one simulated corosync, in the spirit of
// pve-ha-manager's simulated environment.
//
// The simulated corosync computes partitions from link groups and corosync liveness, and gives
// every member of a partition the same totally ordered events (quorum, then cmap config
// versions). Each node's interpreter runs the engine's effects with fake handlers: a model of
// the node (cluster IP, locks, VMmanager, VMs, its link's carrier); so the plans, the carry-over,
// the guards and the carrier policy are production's. Results come back as events. Time is
// simulated: timers and retry backoffs fire only when a `wait` advances the clock. No I/O, no
// real clock, no randomness (an interleaving PRNG is seeded): the same commands give the same log.
import { Interpreter, clockSleep, type EffectHandlers } from '../daemon/interpreter';
import type { Clock } from '../daemon/ports';
import { editNodeConfig, fakeEffectHandlers, runFakeEffect, type FakeWorld } from './fake-actions';
import { SIM_CONFIRM_MS, cloneView, newSimNode, nodeName, sameContent, sameMembers, settle, takeDelivery, type Delivery, type SimNode, type SimOptions, type Timer } from './model';
import { initialState } from '../engine/engine';
import type { ClusterView, Effect, EngineEvent, NodeInfo, RingId } from '../engine/types';

export { nodeName } from './model';
export type { Held, SimNode, SimNodeSpec, SimOptions } from './model';

export class Simulator {
  now = 0;
  readonly nodes = new Map<number, SimNode>();
  /** The cluster database's idea of where each VM belongs (VMmanager moves it on restore). */
  readonly vmOwner = new Map<string, number>();
  /** Safety violations observed while executing effects (a VM resumed after restore, ...). */
  readonly violations: string[] = [];
  /**
   * VMs whose suspend result never reached an engine (the daemon crashed or restarted first):
   * the engine leaves them suspended on purpose (it cannot know them), so they are expected.
   */
  readonly lostSuspendResults = new Set<string>();
  /** Cluster IP added by a member while another member of the same ring held it (see execute). */
  readonly ipOverlaps: string[] = [];
  /** Number of engine decisions taken so far. */
  decisions = 0;
  private readonly expectedVotes: number;
  private ringSeq = 0;
  private nextGroup = 1;
  private queue: Delivery[] = [];
  private rng: number | null;
  private readonly lateResults: boolean;
  /** Results held back by `lateResults` until the next command's events are processed. */
  private deferred: Delivery[] = [];
  private timers: Timer[] = [];
  private timerHandles = 0;
  protected log: string[] = [];
  /**
   * Armed by `cutOnRaise`: the next raise of a listed node (null entry: of any node) cuts that
   * node off right after its own write, before its file or cmap version reaches anyone.
   */
  private cutOnRaiseArmed = new Set<number | null>();
  /** A node was cut while events were being processed: new rings once the queue is empty. */
  private ringsDirty = false;

  /** What the fake actions may use of this simulator (fake-actions.ts). */
  private readonly world: FakeWorld = {
    now: () => this.now,
    ipOverlaps: this.ipOverlaps,
    violations: this.violations,
    vmOwner: this.vmOwner,
    node: (id) => this.node(id),
    log: (...lines) => this.log.push(...lines),
    enqueue: (to, event) => this.enqueue(to, event),
    installConfig: (n, view, reload) => this.installConfig(n, view, reload),
    reportConflict: (to, from) => this.reportConflict(to, from),
    takeCutOnRaise: (n) => this.takeCutOnRaise(n),
    isolate: (n) => {
      n.group = this.nextGroup++;
      this.ringsDirty = true;
    },
  };

  constructor(options: SimOptions) {
    const view: ClusterView = {
      configVersion: 1,
      nodes: options.nodes.map((n): NodeInfo => ({ nodeId: n.nodeId, ip: `198.18.0.${n.nodeId}`, prio: n.prio, replication: n.replication })),
      takeoverDelayMs: options.takeoverDelayMs ?? 0,
    };
    this.expectedVotes = options.expectedVotes ?? options.nodes.length;
    this.rng = options.interleaveSeed === undefined ? null : options.interleaveSeed >>> 0 || 1;
    this.lateResults = options.lateResults ?? false;
    for (const spec of options.nodes) {
      this.nodes.set(spec.nodeId, newSimNode(spec, cloneView(view)));
      for (const vm of spec.vms) this.vmOwner.set(vm, spec.nodeId);
    }
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`unknown node ${nodeName(id)}`);
    return n;
  }

  /** Log lines produced since the last call. */
  takeLog(): string[] {
    const out = this.log;
    this.log = [];
    return out;
  }

  // ---- commands (each runs to quiescence)

  /** Power on: corosync and the listener start; the listener restores its state file. */
  async start(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      if (n.powered) throw new Error(`${nodeName(id)} is already running`);
      n.powered = true;
      n.corosyncUp = true;
      if (!n.booted) for (const vm of n.initialVms) if (this.vmOwner.get(vm) === id) n.running.add(vm);
      n.booted = true;
      this.startListener(n);
    }
    await this.membershipChanged();
  }

  /** Power loss: corosync, the listener and the running VMs are gone; the disk survives. */
  async crash(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      n.powered = false;
      n.corosyncUp = false;
      this.stopListener(n);
      n.running.clear();
      n.held = { ...n.held, clusterIp: false, service: false, serviceLock: false };
      n.ring = null;
      n.members = [];
      n.quorate = false;
      this.loseResultsOf(id);
    }
    await this.membershipChanged();
  }

  /** Results in flight to a daemon that dies are lost with it. */
  private loseResultsOf(id: number): void {
    const lost = (d: Delivery): boolean => d.to === id && d.event.type === 'vmsSuspended';
    for (const d of [...this.queue, ...this.deferred]) {
      if (lost(d) && d.event.type === 'vmsSuspended') for (const vm of d.event.vms) this.lostSuspendResults.add(vm);
    }
    this.queue = this.queue.filter((d) => !lost(d));
    this.deferred = this.deferred.filter((d) => !lost(d));
  }

  /** Isolate the listed nodes together (they still see each other). */
  async cut(ids: number[]): Promise<void> {
    const g = this.nextGroup++;
    for (const id of ids) this.node(id).group = g;
    await this.membershipChanged();
  }

  /** Each list becomes its own link group; nodes not listed form one more group. */
  async split(groups: number[][]): Promise<void> {
    const listed = new Set(groups.flat());
    const rest = this.nextGroup++;
    for (const n of this.nodes.values()) if (!listed.has(n.nodeId)) n.group = rest;
    for (const ids of groups) {
      const g = this.nextGroup++;
      for (const id of ids) this.node(id).group = g;
    }
    await this.membershipChanged();
  }

  /** Reconnect the listed nodes (all when empty) to the main network. */
  async heal(ids: number[]): Promise<void> {
    const targets = ids.length > 0 ? ids : [...this.nodes.keys()];
    for (const id of targets) this.node(id).group = 0;
    await this.membershipChanged();
  }

  async killCorosync(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      if (!n.powered || !n.corosyncUp) continue;
      n.corosyncUp = false;
      n.ring = null;
      n.members = [];
      n.quorate = false;
      this.enqueue(id, { type: 'disconnected', now: this.now });
    }
    await this.membershipChanged();
  }

  async startCorosync(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      if (n.powered) n.corosyncUp = true;
    }
    await this.membershipChanged();
  }

  /** The daemon restarts: a fresh engine from the state file, fed the current view. */
  async restartListener(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      if (!n.powered) continue;
      this.stopListener(n);
      this.loseResultsOf(id);
      this.startListener(n);
      if (n.corosyncUp && n.ring !== null) {
        this.enqueue(id, { type: 'quorum', now: this.now, quorate: n.quorate, ringId: n.ring, members: [...n.members] });
        this.enqueue(id, { type: 'configVersions', now: this.now, versions: this.versionsOf(n.members) });
        // CPG tells the members' listeners that this one joined the group (they send it what it missed).
        for (const mid of n.members) if (mid !== id && this.node(mid).interpreter !== null) this.enqueue(mid, { type: 'groupJoined', now: this.now, nodeIds: [id] });
      } else if (!n.corosyncUp) {
        this.enqueue(id, { type: 'disconnected', now: this.now });
      }
    }
    await this.drain();
  }

  /**
   * An operator edit of corosync.conf, with a new config_version above every version in the
   * cluster, made on `on`, or by default where VMmanager edits it: on the master of the edited
   * node's (quorate) partition, which then publishes it (without a master: on every node there).
   * Editing a slave first would make it the only member with the newest version, i.e. the only
   * one eligible (docs/engine.md, "Configuration changes go through the master").
   */
  async editNode(nodeId: number, change: Partial<Pick<NodeInfo, 'prio' | 'replication'>>, on: number[] | null): Promise<void> {
    editNodeConfig(this.world, [...this.nodes.values()], nodeId, change, on);
    await this.drain();
  }

  /**
   * Arm a fault: the next time `id` (undefined: any node) raises its priority, it is cut off
   * (its own link group) right after writing its file: the new version is on its disk, but
   * neither its offer nor corosync's reload reaches another node. Models a master killed or
   * partitioned between its write and its CPG offer (the race of issue 6's "two failovers in
   * quick succession").
   */
  cutOnRaise(id?: number): void {
    if (id !== undefined) this.node(id);
    this.cutOnRaiseArmed.add(id ?? null);
    this.log.push(`armed: cut ${id === undefined ? 'the next node' : nodeName(id)} right after its next priority raise`);
  }

  /** Disarm every `cutOnRaise` not fired yet (before checking that a healed cluster settles). */
  disarmFaults(): void {
    this.cutOnRaiseArmed.clear();
  }

  /** Advance simulated time, firing due timers (and the watchdogs' deadlines, see `deadline`) in order. */
  async wait(ms: number): Promise<void> {
    const until = this.now + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.nodeId - b.nodeId || a.handle - b.handle);
      const deadline = this.deadline();
      const next = deadline !== null && deadline.at <= (this.timers[0]?.at ?? Infinity) ? deadline : this.timers[0];
      if (next === undefined || next.at > until) break;
      if (next !== deadline) this.timers.shift();
      this.now = next.at;
      await next.fire();
      await this.drain();
    }
    this.now = until;
    await this.drain();
  }

  /** The cluster IP's device of each listed node loses its carrier (the node stays in corosync). */
  async carrierDown(ids: number[]): Promise<void> {
    await this.setCarrier(ids, false);
  }

  /** The carrier returns. */
  async carrierUp(ids: number[]): Promise<void> {
    await this.setCarrier(ids, true);
  }

  private async setCarrier(ids: number[], up: boolean): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      n.carrier = up;
      this.log.push(`${nodeName(id)} carrier ${up ? 'up' : 'down'}`);
      if (n.interpreter !== null) this.enqueue(id, { type: 'carrier', now: this.now, dev: 'vmbr0', up, confirmMs: SIM_CONFIRM_MS });
    }
    await this.drain();
  }

  // ---- hooks for fencing-sim.ts (no-ops here)

  /** The next event a subclass owes at a point in time (a watchdog firing), or null. */
  protected deadline(): { at: number; fire: () => Promise<void> } | null {
    return null;
  }
  /** Whether a subclass takes this delivery (a frozen node's), instead of its interpreter. */
  protected holds(_delivery: Delivery): boolean {
    return false;
  }
  /** After every drain (the simulator is quiescent at `now`). */
  protected quiescent(): void {}
  /** A listener has just started on `n`. */
  protected listenerStarted(_n: SimNode): void {}
  /** What `suspendVms` does on `n` (a subclass may make it hang). */
  protected suspendVms(n: SimNode, e: Effect, _signal: AbortSignal): Promise<unknown> {
    return Promise.resolve(runFakeEffect(this.world, n, e));
  }

  // ---- simulated corosync

  private startListener(n: SimNode): void {
    const interpreter = new Interpreter({
      handlers: this.handlers(n),
      clock: this.clockOf(n.nodeId),
      sleep: clockSleep(this.clockOf(n.nodeId)),
      deliver: (event) => {
        if (n.interpreter !== interpreter) return; // a result for a listener that is gone
        // Results of local steps (the cluster IP's) reach the engine right away, as in the
        // daemon; suspend results and fired timers queue with the other deliveries.
        if (event.type === 'vmsSuspended') (this.lateResults ? this.deferred : this.queue).push({ to: n.nodeId, event });
        else if (event.type === 'timerFired') this.enqueue(n.nodeId, event);
        else queueMicrotask(() => interpreter.feed(event));
      },
      onDecision: (decision, _event, before) => {
        this.decisions++;
        n.engine = decision.state;
        const s = decision.state;
        if (s.role !== before.role || s.masterId !== before.masterId) {
          const m = s.masterId;
          const whom = m === null ? '' : m === n.nodeId ? (s.role === 'master' ? '' : ' elected') : ` master=${nodeName(m)}`;
          this.log.push(`${nodeName(n.nodeId)} ${s.role}${whom}`);
        }
        // Timers are the interpreter's own (on this node's clock): logged as they are decided.
        for (const e of decision.effects) if (e.type === 'startTimer') this.log.push(`${nodeName(n.nodeId)} startTimer ${e.ms}ms`);
      },
    });
    const state = initialState(n.nodeId, n.persisted);
    interpreter.start(state);
    n.interpreter = interpreter;
    n.engine = state;
    this.enqueue(n.nodeId, { type: 'config', now: this.now, view: cloneView(n.config) });
    if (!n.carrier) this.enqueue(n.nodeId, { type: 'carrier', now: this.now, dev: 'vmbr0', up: false, confirmMs: SIM_CONFIRM_MS });
    this.listenerStarted(n);
  }

  /** The listener dies: its interpreter stops (the step in flight cancelled), its timers go. */
  private stopListener(n: SimNode): void {
    const old = n.interpreter;
    n.interpreter = null;
    n.engine = null;
    this.timers = this.timers.filter((t) => t.nodeId !== n.nodeId);
    if (old !== null) void old.close();
  }

  /** Node `nodeId`'s view of the simulated clock: its timers fire in `wait`. */
  private clockOf(nodeId: number): Clock {
    return {
      now: () => this.now,
      setTimeout: (fire, ms) => {
        const handle = ++this.timerHandles;
        this.timers.push({ at: this.now + ms, nodeId, handle, fire });
        return handle;
      },
      clearTimeout: (handle) => {
        this.timers = this.timers.filter((t) => t.handle !== handle);
      },
    };
  }

  /** What each effect does to the simulated node (fake-actions.ts; the suspend through suspendVms, which a subclass may hold up). */
  private handlers(n: SimNode): EffectHandlers {
    return fakeEffectHandlers(
      (e) => Promise.resolve(runFakeEffect(this.world, n, e)),
      (e, signal) => this.suspendVms(n, e, signal),
    );
  }

  private versionsOf(members: number[]): Record<number, number> {
    const versions: Record<number, number> = {};
    for (const id of members) versions[id] = this.node(id).config.configVersion;
    return versions;
  }

  /** Recompute partitions, then process what that delivers. */
  protected async membershipChanged(): Promise<void> {
    this.recomputeRings();
    await this.drain();
  }

  /** Every partition whose membership changed gets a new ring (events queued, not processed). */
  private recomputeRings(): void {
    this.ringsDirty = false;
    const byGroup = new Map<number, number[]>();
    for (const n of this.nodes.values()) {
      if (!n.corosyncUp) continue;
      const list = byGroup.get(n.group) ?? [];
      list.push(n.nodeId);
      byGroup.set(n.group, list);
    }
    for (const members of byGroup.values()) {
      members.sort((a, b) => a - b);
      const unchanged = members.every((id) => {
        const n = this.node(id);
        return n.ring !== null && sameMembers(n.members, members);
      });
      if (unchanged) continue;
      // corosync gives a new ring a seq above every seq its members have seen.
      this.ringSeq += 4;
      const ringId: RingId = { nodeId: members[0], seq: this.ringSeq };
      const quorate = 2 * members.length > this.expectedVotes;
      const versions = this.versionsOf(members);
      for (const id of members) {
        const n = this.node(id);
        n.ring = ringId;
        n.members = members;
        n.quorate = quorate;
        this.enqueue(id, { type: 'quorum', now: this.now, quorate, ringId, members: [...members] });
      }
      for (const id of members) this.enqueue(id, { type: 'configVersions', now: this.now, versions: { ...versions } });
      // config.hello from every member: each learns who holds another file with its version.
      for (const a of members) for (const b of members) this.reportConflict(this.node(a), this.node(b));
    }
  }

  /**
   * What the config distribution tells `to`'s engine when `from`'s file has the same version
   * but other content (src/cluster/config-distributor.ts): a configConflict with `from`'s role.
   */
  private reportConflict(to: SimNode, from: SimNode): void {
    if (to === from || to.config.configVersion !== from.config.configVersion || sameContent(to.config, from.config)) return;
    this.log.push(`${nodeName(to.nodeId)} conflict: ${nodeName(from.nodeId)} holds another version ${from.config.configVersion}`);
    this.enqueue(to.nodeId, {
      type: 'configConflict',
      now: this.now,
      from: from.nodeId,
      version: from.config.configVersion,
      peerRole: from.engine?.role ?? 'unknown',
      peerMaster: from.engine?.masterId ?? null,
      peerSince: from.engine?.role === 'master' ? from.engine.namedSince : null,
    });
  }

  private installConfig(n: SimNode, view: ClusterView, reload = true): void {
    n.config = view;
    this.enqueue(n.nodeId, { type: 'config', now: this.now, view: cloneView(view) });
    // corosync reloads the file: cmap shows the new version to every member of the ring.
    if (reload && n.corosyncUp) for (const id of n.members) this.enqueue(id, { type: 'configVersions', now: this.now, versions: { [n.nodeId]: view.configVersion } });
  }

  /** Whether `n`'s next raise is the armed fault (disarming it). */
  private takeCutOnRaise(n: SimNode): boolean {
    const key = this.cutOnRaiseArmed.has(n.nodeId) ? n.nodeId : this.cutOnRaiseArmed.has(null) ? null : undefined;
    if (key === undefined) return false;
    this.cutOnRaiseArmed.delete(key);
    return true;
  }

  protected enqueue(to: number, event: EngineEvent): void {
    this.queue.push({ to, event });
  }

  /** Delivers an outside event (an operator's command) to node `to` and processes what follows. */
  async deliver(to: number, event: EngineEvent): Promise<void> {
    this.enqueue(to, event);
    await this.drain();
  }

  /** Processes deliveries one at a time, each decision's plan run to quiescence before the next. */
  protected async drain(): Promise<void> {
    const late = this.deferred;
    this.deferred = [];
    let budget = 200_000; // a cluster that keeps deciding without outside events is a livelock: fail loudly
    for (;;) {
      await settle();
      if (--budget < 0) throw new Error(`t=${this.now}: the simulated cluster does not settle (200000 events in one step)`);
      if (this.queue.length === 0) {
        // Late results first: a cut made in this command (cutOnRaise) reaches the engines as a
        // new ring like any other command's, after the results held back from the last one.
        if (late.length > 0) this.queue.push(...late.splice(0));
        else if (this.ringsDirty) this.recomputeRings();
        else break;
        continue;
      }
      const delivery = this.nextDelivery();
      if (!this.holds(delivery)) this.node(delivery.to).interpreter?.feed(delivery.event);
    }
    this.quiescent();
  }

  /** The next delivery: FIFO, or (interleaved) the oldest pending event of a random node. */
  private nextDelivery(): Delivery {
    const { delivery, rng } = takeDelivery(this.queue, this.rng);
    this.rng = rng;
    return delivery;
  }
}
