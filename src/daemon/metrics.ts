// Prometheus metrics (issue 18): `corolistener run --metrics HOST:PORT` (or COROLISTENER_METRICS)
// serves the text format at /metrics; off by default. prom-client writes the format (a registry of
// our own, not the global one); the values follow the interpreter's decisions and steps, so they
// say what the engine decided and what the node did. The port is a network edge like the config
// sync port: at most 8 connections at once, each dropped after 5 s of idleness or when a request
// takes longer than 5 s to arrive, only GET /metrics answered.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Decision, Effect, EngineState } from '../engine/types';

export const ROLES = ['master', 'slave', 'suspended', 'unknown'] as const;
export const METRICS_MAX_CONNECTIONS = 8;
export const METRICS_IDLE_MS = 5_000;

export class Metrics {
  readonly registry = new Registry();
  private readonly quorate = new Gauge({ name: 'corolistener_quorate', help: '1 when this node is in a quorate partition', registers: [this.registry] });
  private readonly role = new Gauge({ name: 'corolistener_role', help: "1 for this node's current role, 0 for the others", labelNames: ['role'], registers: [this.registry] });
  private readonly master = new Gauge({ name: 'corolistener_master_nodeid', help: 'nodeid of the master this node names (0: none)', registers: [this.registry] });
  private readonly members = new Gauge({ name: 'corolistener_members', help: 'members of the current corosync membership', registers: [this.registry] });
  private readonly version = new Gauge({ name: 'corolistener_config_version', help: "this node's corosync.conf totem.config_version", registers: [this.registry] });
  private readonly maintenance = new Gauge({ name: 'corolistener_maintenance', help: '1 while maintenance mode is on (listeners take no action)', registers: [this.registry] });
  private readonly decisions = new Counter({ name: 'corolistener_decisions_total', help: 'engine decisions taken by this daemon', registers: [this.registry] });
  private readonly failovers = new Counter({ name: 'corolistener_failovers_total', help: 'times this node became master (takeovers and hand-overs)', registers: [this.registry] });
  private readonly steps = new Histogram({
    name: 'corolistener_step_duration_seconds',
    help: 'duration of the effects this node ran, by step and outcome',
    labelNames: ['step', 'outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
    registers: [this.registry],
  });
  private readonly gap = new Gauge({ name: 'corolistener_handover_gap_seconds', help: 'the last ordered hand-over seen here: time with no holder of the cluster IP', registers: [this.registry] });

  /** `watchdogArmed`: whether self-fencing's watchdog is open and fed while safe (read at each scrape). */
  constructor(watchdogArmed: () => boolean = () => false) {
    for (const r of ROLES) this.role.set({ role: r }, r === 'unknown' ? 1 : 0);
    new Gauge({
      name: 'corolistener_watchdog_armed',
      help: '1 while the self-fencing watchdog is armed (fed only while this node is safe), 0 without fencing',
      registers: [this.registry],
      collect() {
        this.set(watchdogArmed() ? 1 : 0);
      },
    });
  }

  decision(decision: Decision, before: EngineState): void {
    const s = decision.state;
    this.decisions.inc();
    this.quorate.set(s.quorum?.quorate === true ? 1 : 0);
    for (const r of ROLES) this.role.set({ role: r }, s.role === r ? 1 : 0);
    this.master.set(s.role === 'master' ? s.localNodeId : (s.masterId ?? 0));
    this.members.set(s.quorum?.members.length ?? 0);
    if (s.config !== null) this.version.set(s.config.configVersion);
    this.maintenance.set(s.config?.maintenance === true ? 1 : 0);
    if (s.role === 'master' && before.role !== 'master') this.failovers.inc();
  }

  step(effect: Effect, outcome: string, durationMs: number): void {
    this.steps.observe({ step: effect.type, outcome }, durationMs / 1000);
  }

  handoverGap(ms: number | null): void {
    if (ms !== null) this.gap.set(ms / 1000);
  }
}

/** The HTTP endpoint: GET /metrics, bounded and with short deadlines. */
export class MetricsServer {
  private readonly server: http.Server;

  constructor(
    private readonly metrics: Metrics,
    idleMs = METRICS_IDLE_MS,
  ) {
    this.server = http.createServer((req, res) => void this.answer(req, res));
    this.server.maxConnections = METRICS_MAX_CONNECTIONS;
    this.server.headersTimeout = idleMs;
    this.server.requestTimeout = idleMs;
    this.server.keepAliveTimeout = Math.min(1_000, idleMs);
    // A connection that sends nothing at all is dropped after the idle deadline.
    this.server.on('connection', (socket) => socket.setTimeout(idleMs, () => socket.destroy()));
  }

  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics\n');
      return;
    }
    try {
      const body = await this.metrics.registry.metrics();
      res.writeHead(200, { 'content-type': this.metrics.registry.contentType }).end(body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}
