// Self-fencing in the simulator: a watchdog per node that resets (powers off) the node when its
// daemon has not fed it for the timeout, fed whenever the engine says the node is safe
// (src/engine/fencing.ts fenceSafety, what the daemon's FencingFeeder asks), and the faults that
// make a node unsafe: `freeze` (every process of the node stopped: its corosync leaves the others,
// its daemon processes nothing), `thaw`, and `hang-suspend` (its VmSuspendCommand never returns).
// Without a `watchdog` option it behaves exactly as the Simulator it extends.
import { fenceSafety } from '../engine/fencing';
import type { Effect } from '../engine/types';
import { nodeName, type Delivery, type SimNode, type SimOptions } from './model';
import { Simulator } from './simulator';

export class FencingSimulator extends Simulator {
  /** One line per watchdog reset, in order. */
  readonly fenced: string[] = [];
  private readonly watchdog: SimOptions['watchdog'];
  private readonly twoNode: boolean;
  private readonly lastFed = new Map<number, number>();
  private readonly frozen = new Map<number, Delivery[]>();
  private readonly hanging = new Set<number>();

  constructor(options: SimOptions) {
    // two_node: each node of the two is quorate alone (votequorum gives it the missing vote).
    super(options.twoNode ? { ...options, expectedVotes: 1 } : options);
    this.watchdog = options.watchdog;
    this.twoNode = options.twoNode ?? false;
  }

  /** Every process of the node stops (SIGSTOP): its corosync leaves the others' membership. */
  async freeze(ids: number[]): Promise<void> {
    for (const id of ids) {
      const n = this.node(id);
      if (!n.powered || this.frozen.has(id)) continue;
      this.frozen.set(id, []);
      n.frozen = true;
      this.log.push(`${nodeName(id)} frozen`);
    }
    await this.cut(ids);
  }

  /** The node's processes run again (if its watchdog has not reset it): it sees what it missed, then rejoins. */
  async thaw(ids: number[]): Promise<void> {
    for (const id of ids) {
      const held = this.frozen.get(id);
      this.frozen.delete(id);
      this.node(id).frozen = false;
      if (held === undefined) continue;
      this.log.push(`${nodeName(id)} thawed`);
      for (const d of held) this.enqueue(d.to, d.event);
    }
    await this.heal(ids);
  }

  /** The node's VmSuspendCommand hangs from now on (never returns, until the node is reset). */
  hangSuspend(ids: number[]): void {
    for (const id of ids) this.hanging.add(this.node(id).nodeId);
  }

  protected override listenerStarted(n: SimNode): void {
    if (this.watchdog === undefined && !this.twoNode) return;
    this.enqueue(n.nodeId, { type: 'fencing', now: this.now, watchdog: this.watchdog ?? null, twoNodeWithoutQdevice: this.twoNode });
    // Opening the device arms it and counts as a feed (softdog restarts its timer on open).
    if (this.watchdog === undefined) return;
    n.fencing = true;
    this.lastFed.set(n.nodeId, this.now);
  }

  protected override holds(d: Delivery): boolean {
    const held = this.frozen.get(d.to);
    if (held === undefined) return false;
    held.push(d);
    return true;
  }

  protected override quiescent(): void {
    for (const n of this.nodes.values()) {
      if (!n.powered) this.lastFed.delete(n.nodeId);
      else if (n.engine !== null && n.interpreter !== null && !this.frozen.has(n.nodeId) && fenceSafety(n.engine).safe) this.lastFed.set(n.nodeId, this.now);
    }
  }

  protected override deadline(): { at: number; fire: () => Promise<void> } | null {
    const w = this.watchdog;
    if (w === undefined) return null;
    let next: { at: number; id: number } | null = null;
    for (const [id, fed] of this.lastFed) {
      const n = this.node(id);
      const safe = !this.frozen.has(id) && n.engine !== null && n.interpreter !== null && fenceSafety(n.engine).safe;
      if (safe || !n.powered) continue;
      if (next === null || fed + w.timeoutMs < next.at) next = { at: fed + w.timeoutMs, id };
    }
    if (next === null) return null;
    const { id } = next;
    return {
      at: next.at,
      fire: async () => {
        const why = this.frozen.has(id) ? 'frozen' : this.node(id).engine === null ? 'no listener' : fenceSafety(this.node(id).engine!).why;
        this.fenced.push(`t=${this.now}: ${nodeName(id)} (${why})`);
        this.log.push(`${nodeName(id)} fenced by its watchdog (${why})`);
        this.frozen.delete(id);
        this.node(id).frozen = false;
        this.hanging.delete(id);
        this.lastFed.delete(id);
        await this.crash([id]);
      },
    };
  }

  protected override suspendVms(n: SimNode, e: Effect, signal: AbortSignal): Promise<unknown> {
    if (!this.hanging.has(n.nodeId)) return super.suspendVms(n, e, signal);
    this.log.push(`${nodeName(n.nodeId)} suspendVms hangs`);
    return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }));
  }
}
