// The fake actions: what each effect does to the simulated node (the model of its cluster IP,
// locks, VMmanager, VMs and corosync.conf), with the safety checks only a simulator can make at
// the moment of the action (a cluster IP added while another member of the ring holds it, a VM
// resumed after it was restored elsewhere).
import type { EffectHandlers } from '../daemon/interpreter';
import { nodeById } from '../engine/election';
import type { ClusterView, ConfigEdit, Effect, EngineEvent, NodeInfo } from '../engine/types';
import { cloneView, describeEffect, nodeName, sameRingOf, type SimNode } from './model';

/** What the fake actions may use of the simulated cluster. */
export interface FakeWorld {
  now(): number;
  readonly ipOverlaps: string[];
  readonly violations: string[];
  readonly vmOwner: Map<string, number>;
  node(id: number): SimNode;
  log(...lines: string[]): void;
  enqueue(to: number, event: EngineEvent): void;
  /** A new corosync.conf on `n`'s disk (and, with `reload`, corosync's reload everywhere). */
  installConfig(n: SimNode, view: ClusterView, reload?: boolean): void;
  /** Same version, other content: `to` hears of `from`'s file (a config conflict). */
  reportConflict(to: SimNode, from: SimNode): void;
  /** Whether `n`'s next raise is the armed cut-on-raise fault (disarming it). */
  takeCutOnRaise(n: SimNode): boolean;
  /** Cuts `n` off in a link group of its own (new rings once the queue is empty). */
  isolate(n: SimNode): void;
}

export function runFakeEffect(w: FakeWorld, n: SimNode, e: Effect): unknown {
  const id = n.nodeId;
  const line = describeEffect(e);
  switch (e.type) {
    case 'removeRelocatedLock':
      n.held.relocatedLock = false;
      break;
    case 'addClusterIp': {
      if (!n.carrier) throw new Error('no carrier on vmbr0');
      // Checked at every delivery, not only at quiescence: the moment a second member of the
      // same ring takes the address while the first still holds it.
      const other = n.ring === null ? undefined : n.members.find((mid) => mid !== id && w.node(mid).held.clusterIp && sameRingOf(w.node(mid), n));
      if (other !== undefined) w.ipOverlaps.push(`t=${w.now()}: ${nodeName(id)} added the cluster IP while ${nodeName(other)} of the same ring held it`);
      n.held.clusterIp = true;
      break;
    }
    case 'createServiceLock':
      n.held.serviceLock = true;
      break;
    case 'startService':
      n.held.service = true;
      // VMmanager writes .relocated once it has restored what it had to.
      n.held.relocatedLock = true;
      restoreVmsOf(w, e.failedNodes, id);
      break;
    case 'reportNodesFailed':
      restoreVmsOf(w, e.nodeIds, id);
      break;
    case 'raisePriority': {
      const view = cloneView(n.config);
      view.configVersion = e.configVersion;
      const info = nodeById(view, e.nodeId);
      if (info !== undefined) info.prio = e.prio;
      if (w.takeCutOnRaise(n)) {
        // Written here, nothing more: cut off before corosync's reload or the offer goes out.
        w.installConfig(n, view, false);
        w.isolate(n);
        w.log(`${nodeName(id)} ${line}`, `${nodeName(id)} cut off right after writing version ${e.configVersion}`);
        return undefined;
      }
      w.installConfig(n, view);
      break;
    }
    case 'publishConfig':
      // CPG reaches the members that are still connected to this node.
      for (const mid of n.members) {
        const m = w.node(mid);
        if (mid === id || m.group !== n.group || !m.corosyncUp) continue;
        if (m.config.configVersion < n.config.configVersion) w.installConfig(m, cloneView(n.config));
        else {
          // Same version, other content: the member refuses it and answers with its hello.
          w.reportConflict(m, n);
          w.reportConflict(n, m);
        }
      }
      break;
    case 'broadcastFailureRecords':
      // CPG: delivered to the members of the ring it was sent in.
      if (n.corosyncUp && n.ring !== null && n.ring.seq === e.ringId.seq) {
        for (const mid of n.members) {
          if (mid !== id)
            w.enqueue(mid, {
              type: 'failureRecords',
              now: w.now(),
              from: id,
              ringId: e.ringId,
              records: { ...e.records },
              ...(e.claim === undefined ? {} : { claim: { ...e.claim } }),
              ...(e.fenceWindows === undefined ? {} : { fenceWindows: { ...e.fenceWindows } }),
            });
        }
      }
      break;
    case 'stopService':
      n.held.service = false;
      break;
    case 'removeServiceLock':
      n.held.serviceLock = false;
      break;
    case 'removeClusterIp':
    case 'removeClusterIpNow':
      n.held.clusterIp = false;
      break;
    case 'readConfig':
      return undefined; // the simulated disk is always what the engine was fed
    case 'suspendVms': {
      const vms = [...n.running].sort();
      for (const vm of vms) n.suspended.add(vm);
      n.running.clear();
      w.log(`${nodeName(id)} suspendVms${vms.length > 0 ? ` ${vms.join(',')}` : ''}`);
      return vms;
    }
    case 'resumeVms':
      for (const vm of e.vms) {
        const owner = w.vmOwner.get(vm);
        if (owner !== id) w.violations.push(`t=${w.now()}: ${nodeName(id)} resumed ${vm} although it was restored on ${owner === undefined ? '?' : nodeName(owner)}`);
        if (!n.suspended.delete(vm)) continue;
        n.running.add(vm);
      }
      break;
    case 'reportVmsDiscarded':
      for (const vm of e.vms) n.suspended.delete(vm);
      break;
    case 'startTimer':
      break; // the interpreter's own (on this node's clock)
    case 'persistState':
      n.persisted = e.state;
      return undefined;
    case 'announceRelease':
    case 'announceTakeover':
      // CPG: delivered to the members connected to this node (a release is an engine event there).
      if (n.corosyncUp && n.ring !== null) {
        for (const mid of n.members) if (mid !== id) w.enqueue(mid, { type: e.type === 'announceRelease' ? 'released' : 'takenOver', now: w.now(), from: id });
      }
      break;
    case 'editConfig': {
      const view = applyEdits(cloneView(n.config), e.edits);
      view.configVersion = e.configVersion;
      w.installConfig(n, view);
      break;
    }
    case 'commandResult':
      break;
  }
  if (line !== null) w.log(`${nodeName(id)} ${line}`);
  return undefined;
}

/** An operator's edits (operations.ts) applied to a simulated corosync.conf. */
export function applyEdits(view: ClusterView, edits: readonly ConfigEdit[]): ClusterView {
  for (const e of edits) {
    if ('section' in e) {
      view.maintenance = e.value === 'on';
      continue;
    }
    if ('addNode' in e) {
      view.nodes.push({ nodeId: e.addNode.nodeId, ip: e.addNode.address, prio: e.addNode.prio, replication: e.addNode.replication ?? true });
      continue;
    }
    if ('removeNode' in e) {
      view.nodes = view.nodes.filter((n) => n.nodeId !== e.removeNode);
      continue;
    }
    const info = nodeById(view, e.nodeId);
    if (info === undefined) continue;
    if (e.key === 'prio') info.prio = Number(e.value);
    else if (e.key === 'replication') info.replication = e.value === 'on';
    else info.standby = e.value === 'on';
  }
  return view;
}

/** What VMmanager on the master does for a failed node: its VMs now run on the master. */
function restoreVmsOf(w: FakeWorld, failed: number[], on: number): void {
  for (const [vm, owner] of w.vmOwner) {
    if (!failed.includes(owner)) continue;
    // Restored while the failed node still runs it (not fenced, not suspended): two copies. Without
    // fencing this is the window the minority's suspend races with (what self-fencing closes).
    const was = w.node(owner);
    if (was.fencing === true && was.powered && was.running.has(vm)) w.violations.push(`t=${w.now()}: ${nodeName(on)} restored ${vm} while it still runs on ${nodeName(owner)}`);
    w.vmOwner.set(vm, on);
    w.node(on).running.add(vm);
  }
}

/**
 * An operator edit of corosync.conf (Simulator.editNode): a new config_version above every version
 * in the cluster, made on `on`, or by default where VMmanager edits it: on the master of the edited
 * node's (quorate) partition, which then publishes it (without a master: on every node there).
 */
export function editNodeConfig(w: FakeWorld, all: readonly SimNode[], nodeId: number, change: Partial<Pick<NodeInfo, 'prio' | 'replication'>>, on: number[] | null): void {
  const subject = w.node(nodeId);
  const connected = all.filter((n) => n.powered && n.group === subject.group);
  const master = connected.find((n) => n.engine?.role === 'master');
  if (on === null && !(subject.powered && subject.corosyncUp && subject.quorate)) {
    // Refused like the config module must refuse it: an edit made away from the quorate
    // partition could reuse a config_version the master writes meanwhile, with other content.
    w.log(`${nodeName(nodeId)} edit refused: not in a quorate partition`);
    return;
  }
  const targets = on ?? (master !== undefined ? [master.nodeId] : connected.map((n) => n.nodeId));
  const version = Math.max(...all.map((n) => n.config.configVersion)) + 1;
  // The operator edits the newest file among the targets and copies the result to all of
  // them: one version number, one content.
  const base = targets.map((id) => w.node(id).config).reduce((a, b) => (b.configVersion > a.configVersion ? b : a));
  const view = cloneView(base);
  view.configVersion = version;
  const info = nodeById(view, nodeId);
  if (info === undefined) throw new Error(`${nodeName(nodeId)} is not in the configuration`);
  Object.assign(info, change);
  for (const id of targets) w.installConfig(w.node(id), cloneView(view));
}

/** The interpreter's handlers for a simulated node: every effect through `run`, the suspend through `suspendVms`. */
export function fakeEffectHandlers(run: (e: Effect) => Promise<unknown>, suspendVms: EffectHandlers['suspendVms']): EffectHandlers {
  return {
    removeRelocatedLock: run,
    addClusterIp: run,
    createServiceLock: run,
    startService: run,
    raisePriority: run,
    publishConfig: run,
    reportNodesFailed: run,
    broadcastFailureRecords: run,
    stopService: run,
    removeServiceLock: run,
    removeClusterIp: run,
    removeClusterIpNow: run,
    readConfig: run,
    suspendVms,
    resumeVms: run,
    reportVmsDiscarded: run,
    persistState: run,
    announceRelease: run,
    announceTakeover: run,
    editConfig: run,
    commandResult: run,
  };
}
