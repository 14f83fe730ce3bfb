// The reports the daemon publishes on its control socket and the CLI prints (`-l`, `status`).
// They cross a process boundary as JSON, so the CLI validates what it receives with the
// parse functions below instead of trusting the shape (a different daemon version, or
// something else listening on the socket path, must give a clear error, not a garbled table).

import type { FencingReport } from './fencing-feeder';

/** Membership status of a configured node as corosync sees it. */
export type NodeStatus = 'joined' | 'left';
/** `M` master, `S` slave, `-` unknown (no quorum, not a member, or no decision yet). */
export type NodeRole = 'M' | 'S' | '-';

export interface NodeListEntry {
  id: number;
  ip: string;
  status: NodeStatus;
  role: NodeRole;
  /** `prio` from corosync.conf / cmap; null when the node has none or it is not a number. */
  priority: number | null;
  /** `replication: on|off`; a node without a replica is not eligible to become master. */
  replication: boolean;
  /** `standby: on` (issue 18): never elected master. Absent when off. */
  standby?: boolean;
}

export interface NodeListReport {
  cluster: {
    name: string;
    quorate: boolean;
    configVersion: number;
    expectedVotes: number;
    /** `corolistener { maintenance: on }` (issue 18): listeners watch and take no action. Absent when off. */
    maintenance?: boolean;
  };
  localNodeId: number;
  /** null while no master is known (not quorate, or no eligible node). */
  masterNodeId: number | null;
  /** One entry per node configured in the nodelist, in configuration order. */
  nodes: NodeListEntry[];
  /** Self-fencing, from a daemon (fencing-report.ts); absent when read straight from corosync. */
  fencing?: FencingReport;
}

/** The daemon's own state, returned with the node list by the `status` request. */
export interface DaemonStatus {
  pid: number;
  version: string;
  /** ISO 8601 time the daemon started. */
  startedAt: string;
  /** Whether the daemon currently holds live corosync connections. */
  corosyncConnected: boolean;
  /** This node's current role as the daemon carries it out. */
  role: 'master' | 'slave' | 'suspended' | 'unknown';
  /** The last hand-over of the master role this daemon saw complete (issue 18), if any. */
  lastHandover?: { from: number; to: number; gapMs: number | null; at: string } | null;
}

export interface StatusReport {
  daemon: DaemonStatus;
  report: NodeListReport;
  /** Self-fencing (fencing-report.ts); absent from daemons that predate it. */
  fencing?: FencingReport;
}

/** Thrown when a report received over the socket does not have the documented shape. */
export class ReportShapeError extends Error {
  constructor(
    readonly field: string,
    expected: string,
  ) {
    super(`invalid report: ${field} must be ${expected}`);
    this.name = 'ReportShapeError';
  }
}

type Json = Record<string, unknown>;

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ReportShapeError(field, 'an object');
  }
  return value as Json;
}

function integer(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ReportShapeError(field, 'an integer');
  }
  return value;
}

function nullableInteger(value: unknown, field: string): number | null {
  return value === null ? null : integer(value, field);
}

function string(value: unknown, field: string): string {
  if (typeof value !== 'string') throw new ReportShapeError(field, 'a string');
  return value;
}

function boolean(value: unknown, field: string): boolean {
  if (typeof value !== 'boolean') throw new ReportShapeError(field, 'true or false');
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ReportShapeError(field, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`);
  }
  return value as T;
}

const NODE_STATUSES = ['joined', 'left'] as const;
const NODE_ROLES = ['M', 'S', '-'] as const;
const DAEMON_ROLES = ['master', 'slave', 'suspended', 'unknown'] as const;

function parseNode(value: unknown, field: string): NodeListEntry {
  const n = object(value, field);
  return {
    id: integer(n.id, `${field}.id`),
    ip: string(n.ip, `${field}.ip`),
    status: oneOf(n.status, NODE_STATUSES, `${field}.status`),
    role: oneOf(n.role, NODE_ROLES, `${field}.role`),
    priority: nullableInteger(n.priority, `${field}.priority`),
    replication: boolean(n.replication, `${field}.replication`),
    ...(n.standby === undefined ? {} : { standby: boolean(n.standby, `${field}.standby`) }),
  };
}

/** Validates an untrusted value as a NodeListReport; returns a copy without unknown fields (fencing: fencing-report.ts). */
export function parseNodeListReport(value: unknown, field = 'report'): NodeListReport {
  const r = object(value, field);
  const c = object(r.cluster, `${field}.cluster`);
  if (!Array.isArray(r.nodes)) throw new ReportShapeError(`${field}.nodes`, 'an array');
  return {
    cluster: {
      name: string(c.name, `${field}.cluster.name`),
      quorate: boolean(c.quorate, `${field}.cluster.quorate`),
      configVersion: integer(c.configVersion, `${field}.cluster.configVersion`),
      expectedVotes: integer(c.expectedVotes, `${field}.cluster.expectedVotes`),
      ...(c.maintenance === undefined ? {} : { maintenance: boolean(c.maintenance, `${field}.cluster.maintenance`) }),
    },
    localNodeId: integer(r.localNodeId, `${field}.localNodeId`),
    masterNodeId: nullableInteger(r.masterNodeId, `${field}.masterNodeId`),
    nodes: r.nodes.map((n, i) => parseNode(n, `${field}.nodes[${i}]`)),
  };
}

/** Validates an untrusted value as a StatusReport. */
export function parseStatusReport(value: unknown): StatusReport {
  const s = object(value, 'status');
  const d = object(s.daemon, 'status.daemon');
  return {
    daemon: {
      pid: integer(d.pid, 'status.daemon.pid'),
      version: string(d.version, 'status.daemon.version'),
      startedAt: string(d.startedAt, 'status.daemon.startedAt'),
      corosyncConnected: boolean(d.corosyncConnected, 'status.daemon.corosyncConnected'),
      role: oneOf(d.role, DAEMON_ROLES, 'status.daemon.role'),
      ...(d.lastHandover === undefined || d.lastHandover === null ? {} : { lastHandover: parseHandover(d.lastHandover) }),
    },
    report: parseNodeListReport(s.report, 'status.report'),
  };
}

function parseHandover(value: unknown): NonNullable<DaemonStatus['lastHandover']> {
  const h = object(value, 'status.daemon.lastHandover');
  return {
    from: integer(h.from, 'status.daemon.lastHandover.from'),
    to: integer(h.to, 'status.daemon.lastHandover.to'),
    gapMs: h.gapMs === null ? null : number(h.gapMs, 'status.daemon.lastHandover.gapMs'),
    at: string(h.at, 'status.daemon.lastHandover.at'),
  };
}

function number(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new ReportShapeError(field, 'a number');
  return value;
}
