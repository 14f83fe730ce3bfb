// Operating the cluster (issue 18), decided here like everything else: the ordered hand-over of
// the master role between two live nodes, maintenance mode, and the operator's commands
// (switchover, prio, replication, standby, maintenance), which become corosync.conf edits the
// master writes with a new config_version and distributes as a takeover's raise is.
//
// Ordered hand-over. When the role moves between two live members of one quorate partition (an
// operator's switchover, prio or standby change, an edit by hand), the old master steps down
// (cluster IP first, VMmanager, locks) and then announces over CPG that it holds nothing any
// more (`announceRelease`); the newly elected node does not take over before that announcement
// arrives, for at most HANDOVER_WAIT_MS (a listener that died on the old master must not keep
// the cluster without a master; its duplicate-address check still guards the address). So
// there are never two holders of the cluster IP in a hand-over, and never two VMmanagers.
//
// Maintenance (`corolistener { maintenance: on }` in corosync.conf, so it is cluster-wide, signed
// and distributed like any edit, and survives restarts): every listener keeps absorbing what it
// is told (membership, versions, records) and says what it would decide, but its role stays as
// it was and no effect runs, except reading and distributing corosync.conf (the way maintenance
// is turned off again) and the state file. When it is turned off, the next decision reconciles
// from the role held before: a pending takeover starts afresh, a master still elected stays.
import { absorb } from './absorb';
import { electMaster, ineligibility, nameMaster, nodeById } from './election';
import { samePersisted } from './state';
import type { ClusterView, CommandEvent, ConfigEdit, Decision, Effect, EngineEvent, EngineState, NodeInfo, OperatorCommand } from './types';

/** How long an elected node waits for the old master's release before it takes over anyway. */
export const HANDOVER_WAIT_MS = 30_000;

export function inMaintenance(s: EngineState): boolean {
  return s.config?.maintenance === true;
}

/**
 * Whom an elected node (not master yet) must wait for: the member that announced it is master
 * and has not announced its release (every master announces itself after its takeover and once
 * per ring). Null: take over as usual (after a failover the old master is gone from the ring).
 */
export function handoverFrom(s: EngineState, members: readonly number[]): number | null {
  const known = s.knownMaster ?? null;
  if (known !== null && known !== s.localNodeId && members.includes(known)) {
    s.handoverFrom = known;
    return known;
  }
  if (s.handoverFrom != null && !members.includes(s.handoverFrom)) s.handoverFrom = null;
  return null;
}

/** After each decision: a master knows itself; a node no longer elected waits for nobody. */
export function trackMasters(s: EngineState): void {
  if (s.role === 'master') s.knownMaster = s.localNodeId;
  if (s.role === 'master' || s.masterId !== s.localNodeId) s.handoverFrom = null;
}

/**
 * The decision of a listener in maintenance: what it would have decided is explained, the state
 * absorbs the event (inputs only), the role and its duties stay as they were, and only effects
 * that keep files in step run (persistState, readConfig, publishConfig).
 */
export function freezeForMaintenance(state: EngineState, event: EngineEvent, would: Decision): Decision {
  const { state: absorbed } = absorb(state, event);
  const w = would.state;
  const s: EngineState = {
    ...absorbed,
    // inputs the decision derived that carry no action
    timerSeq: w.timerSeq,
    publishedAt: w.publishedAt !== null && w.publishedAt.version === (absorbed.config?.configVersion ?? -1) ? w.publishedAt : state.publishedAt,
    conflict: w.conflict,
    recordsRing: w.recordsRing,
    recordsFrom: w.recordsFrom,
    // what the role was, kept
    role: state.role,
    masterId: state.masterId,
    namedSince: state.namedSince,
    servedMembers: state.servedMembers,
    clusterIp: state.clusterIp,
    restoredRole: state.restoredRole,
    recordsSentSeq: state.recordsSentSeq,
    // a takeover pending when maintenance began starts afresh once it ends
    takeoverTimer: null,
    handoverFrom: null,
    persisted: { ...absorbed.persisted, lastRole: state.persisted.lastRole },
  };
  // Only the file as it is goes out: a publish of a version the withheld raise would write does not.
  const version = absorbed.config?.configVersion ?? -1;
  const keep = (e: Effect): boolean => e.type === 'readConfig' || (e.type === 'publishConfig' && e.configVersion === version);
  const effects: Effect[] = would.effects.filter(keep);
  if (!samePersisted(s.persisted, state.persisted)) effects.unshift({ type: 'persistState', state: s.persisted });
  const withheld = would.effects.filter((e) => !keep(e) && e.type !== 'persistState').map((e) => e.type);
  const started = !inMaintenance(state) ? 'maintenance on: listeners take no action; ' : '';
  const explanation = `${s.role}: ${started}maintenance, would be ${would.explanation}${withheld.length > 0 ? `; not done: ${withheld.join(', ')}` : ''}`;
  return { state: s, effects, explanation };
}

/** Refused: one line naming the node or value at fault. */
function refuse(state: EngineState, event: CommandEvent, message: string): Decision {
  const s = { ...state, lastEventAt: event.now };
  return { state: s, effects: [{ type: 'commandResult', commandId: event.id, ok: false, message }], explanation: `${s.role}: command ${describeCommand(event.command)} refused: ${message}` };
}

export function describeCommand(c: OperatorCommand): string {
  switch (c.kind) {
    case 'switchover':
      return `switchover ${c.target}`;
    case 'prio':
      return `prio set ${c.nodeId} ${c.prio}`;
    case 'replication':
      return `replication set ${c.nodeId} ${c.on ? 'on' : 'off'}`;
    case 'standby':
      return `standby ${c.nodeId} ${c.on ? 'on' : 'off'}`;
    case 'maintenance':
      return `maintenance ${c.on ? 'on' : 'off'}${c.force === true ? ' --force' : ''}`;
    case 'nodeAdd':
      return `node add ${c.nodeId} ${c.address}${c.prio === undefined ? '' : ` --prio ${c.prio}`}${c.replication === undefined ? '' : ` --replication ${c.replication ? 'on' : 'off'}`}${c.name === undefined ? '' : ` --name ${c.name}`}`;
    case 'nodeRemove':
      return `node remove ${c.nodeId}`;
  }
}

/**
 * The node that writes operator edits: the master when it is a member of this quorate partition;
 * without one (e.g. the master was cut off during maintenance), the lowest nodeid holding the
 * newest version, as for publishing. Null: not quorate, or nothing known yet.
 */
export function editorOf(s: EngineState): number | null {
  const q = s.quorum;
  if (q === null || !q.quorate || s.config === null) return null;
  if (s.role === 'master') return s.localNodeId;
  if (s.masterId !== null && q.members.includes(s.masterId)) return s.masterId;
  const naming = nameMaster(s.config, s.localNodeId, q.members, s.configVersions);
  if (naming.unknown.length > 0 || naming.newestVersion === null) return null;
  const holders = q.members.filter((id) => naming.versions[id] === naming.newestVersion);
  return holders.length === 0 ? null : Math.min(...holders);
}

/** The view after `edits` (what every member will elect with once it has the file). */
function editedView(view: ClusterView, edits: readonly ConfigEdit[]): ClusterView {
  const nodes: NodeInfo[] = view.nodes.map((n) => ({ ...n }));
  let maintenance = view.maintenance === true;
  for (const e of edits) {
    if ('section' in e) {
      maintenance = e.value === 'on';
      continue;
    }
    if ('addNode' in e) {
      nodes.push({ nodeId: e.addNode.nodeId, ip: e.addNode.address, prio: e.addNode.prio, replication: e.addNode.replication ?? true });
      continue;
    }
    if ('removeNode' in e) {
      nodes.splice(
        nodes.findIndex((n) => n.nodeId === e.removeNode),
        1,
      );
      continue;
    }
    const n = nodes.find((x) => x.nodeId === e.nodeId);
    if (n === undefined) continue;
    if (e.key === 'prio') n.prio = Number(e.value);
    else if (e.key === 'replication') n.replication = e.value === 'on';
    else n.standby = e.value === 'on';
  }
  return { ...view, nodes, maintenance };
}

/** An operator command: validated against what this node knows, then written (by the master only). */
export function decideCommand(state: EngineState, event: CommandEvent): Decision {
  const c = event.command;
  const view = state.config;
  const q = state.quorum;
  const local = state.localNodeId;
  if (view === null || q === null || !q.quorate) return refuse(state, event, `node ${local} is not quorate: no change can be made from here`);
  const editor = editorOf(state);
  if (editor !== local) {
    const where = editor === null ? '' : `node ${editor}${nodeById(view, editor)?.ip ? ` (${nodeById(view, editor)?.ip})` : ''}`;
    const isMaster = editor !== null && (state.masterId === editor || state.knownMaster === editor);
    const there = editor === null ? 'the master is not known yet' : isMaster ? `${where} is the master: run it there` : `${where} writes it (no master in this partition): run it there`;
    return refuse(state, event, `node ${local} does not write the configuration; ${there}`);
  }
  if (c.kind === 'nodeAdd') {
    if (nodeById(view, c.nodeId) !== undefined) return refuse(state, event, `node ${c.nodeId} is already in the nodelist`);
    const taken = view.nodes.find((n) => n.ip === c.address);
    if (taken !== undefined) return refuse(state, event, `address ${c.address} is already node ${taken.nodeId}'s`);
  }
  const nodeId = c.kind === 'switchover' ? c.target : c.kind === 'maintenance' || c.kind === 'nodeAdd' ? null : c.nodeId;
  const node = nodeId === null ? undefined : nodeById(view, nodeId);
  if (nodeId !== null && node === undefined) return refuse(state, event, `node ${nodeId} is not in the nodelist`);
  const members = q.members;
  const versions = nameMaster(view, local, members, state.configVersions).versions;
  let edits: ConfigEdit[];
  switch (c.kind) {
    case 'switchover': {
      const target = c.target;
      if (target === local && state.role === 'master') return refuse(state, event, `node ${target} is already the master`);
      if (!members.includes(target)) return refuse(state, event, `node ${target} is not a member of this quorate partition (members: ${members.join(',')})`);
      const why = ineligibility(target, node, versions, Math.max(...members.map((id) => versions[id] ?? 0)));
      if (why !== null) return refuse(state, event, `node ${target} cannot be master: ${why}`);
      const highest = Math.max(0, ...view.nodes.filter((n) => n.nodeId !== target && n.prio !== undefined).map((n) => n.prio as number));
      edits = [{ nodeId: target, key: 'prio', value: String(highest + 1) }];
      break;
    }
    case 'prio':
      if (!Number.isSafeInteger(c.prio) || c.prio < 0) return refuse(state, event, `prio ${c.prio} for node ${c.nodeId}: must be an integer 0 or more`);
      if (node?.prio === c.prio) return done(state, event, `node ${c.nodeId} already has prio ${c.prio}: nothing written`);
      edits = [{ nodeId: c.nodeId, key: 'prio', value: String(c.prio) }];
      break;
    case 'replication':
      if (node?.replication === c.on) return done(state, event, `node ${c.nodeId} already has replication ${c.on ? 'on' : 'off'}: nothing written`);
      edits = [{ nodeId: c.nodeId, key: 'replication', value: c.on ? 'on' : 'off' }];
      break;
    case 'standby':
      if ((node?.standby === true) === c.on) return done(state, event, `node ${c.nodeId} is already ${c.on ? 'in standby' : 'out of standby'}: nothing written`);
      edits = [{ nodeId: c.nodeId, key: 'standby', value: c.on ? 'on' : 'off' }];
      break;
    case 'maintenance': {
      if ((view.maintenance === true) === c.on) return done(state, event, `maintenance is already ${c.on ? 'on' : 'off'}: nothing written`);
      // A node cut off during maintenance suspended nothing and may still run its VMs (and, if
      // it was master, hold the cluster IP): ending maintenance here would restore them twice.
      const absent = view.nodes.map((n) => n.nodeId).filter((id) => !members.includes(id));
      if (!c.on && absent.length > 0 && c.force !== true) {
        return refuse(
          state,
          event,
          `node(s) ${absent.join(',')} not in this partition may still run their VMs untouched by maintenance; bring them back first, or 'maintenance off --force' if they are down`,
        );
      }
      edits = [{ section: 'corolistener', key: 'maintenance', value: c.on ? 'on' : 'off' }];
      break;
    }
    case 'nodeAdd':
      edits = [
        {
          addNode: {
            nodeId: c.nodeId,
            address: c.address,
            ...(c.prio === undefined ? {} : { prio: c.prio }),
            ...(c.replication === undefined ? {} : { replication: c.replication }),
            ...(c.name === undefined ? {} : { name: c.name }),
          },
        },
      ];
      break;
    case 'nodeRemove': {
      const master = state.role === 'master' ? local : state.masterId;
      if (c.nodeId === master) return refuse(state, event, `node ${c.nodeId} is the master: switch over first (corolistener switchover NODEID)`);
      if (members.includes(c.nodeId)) return refuse(state, event, `node ${c.nodeId} is still a member: stop its corosync and corolistener first`);
      if (view.nodes.length <= 1) return refuse(state, event, `node ${c.nodeId} is the last node of the nodelist`);
      edits = [{ removeNode: c.nodeId }];
      break;
    }
  }
  const next = editedView(view, edits);
  // What every member elects once it has the file (all at its version, so staleness is left out).
  const atNext = Object.fromEntries(members.map((id) => [id, 1]));
  const after = electMaster(next, members, atNext).masterId;
  const before = state.role === 'master' ? local : state.masterId;
  const anyEligible = next.nodes.some((n) => n.replication && n.standby !== true && n.prio !== undefined);
  if (!anyEligible && c.kind !== 'maintenance') {
    return refuse(state, event, `${describeCommand(c)} would leave no node of the nodelist that can be master`);
  }
  if (after === null && before !== null && c.kind !== 'maintenance' && c.kind !== 'nodeAdd') {
    return refuse(state, event, `${describeCommand(c)} would leave no eligible member among ${members.join(',')}: the cluster would have no master`);
  }
  const configVersion = Math.max(view.configVersion, state.editedVersion ?? 0, state.persisted.claimedVersion?.version ?? 0) + 1;
  const live = before !== null && members.includes(before);
  const moves = after === before ? '' : live ? `; the master role moves from node ${before} to node ${after ?? '-'} (ordered hand-over)` : `; node ${after ?? '-'} is elected`;
  const summary = `${describeCommand(c)}: config_version ${configVersion}${moves}`;
  const s: EngineState = { ...state, lastEventAt: event.now, editedVersion: configVersion, publishedAt: q.ringId === null ? state.publishedAt : { seq: q.ringId.seq, version: configVersion } };
  return {
    state: s,
    effects: [
      { type: 'editConfig', edits, configVersion, commandId: event.id, summary, masterBefore: before, masterAfter: after },
      { type: 'publishConfig', configVersion },
    ],
    explanation: `${s.role}: operator: ${summary}`,
  };
}

function done(state: EngineState, event: CommandEvent, message: string): Decision {
  const s = { ...state, lastEventAt: event.now };
  return { state: s, effects: [{ type: 'commandResult', commandId: event.id, ok: true, message }], explanation: `${s.role}: operator: ${message}` };
}
