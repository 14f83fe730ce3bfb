// Metrics (issue 18): prom-client's text, checked by `promtool check metrics` (Debian's
// prometheus package, scripts/system-packages.txt), the values following the engine's
// decisions, and the endpoint's edges (only GET /metrics; idle connections dropped; bounded).
// Loopback only; every socket closed at the end.
import { spawnSync } from 'node:child_process';
import * as net from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { parseMetricsAddress } from '../../../src/daemon/metrics-address';
import { Metrics, MetricsServer } from '../../../src/daemon/metrics';
import { initialState, transition, type ClusterView, type EngineEvent, type EngineState } from '../../../src/engine';

const view: ClusterView = { configVersion: 3, takeoverDelayMs: 0, nodes: [2, 4, 8].map((id) => ({ nodeId: id, ip: `10.0.0.${id}`, prio: id === 4 ? 100 : 50 - id, replication: true })) };
const opened: net.Socket[] = [];
let server: MetricsServer | undefined;

afterEach(async () => {
  for (const s of opened.splice(0)) s.destroy();
  await server?.close();
  server = undefined;
});

function decide(metrics: Metrics, events: EngineEvent[]): EngineState {
  let s = initialState(4);
  for (const e of events) {
    const d = transition(s, e);
    metrics.decision(d, s);
    s = d.state;
  }
  return s;
}

async function get(port: number, path = '/metrics', method = 'GET'): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method });
  return { status: res.status, body: await res.text() };
}

it('parses HOST:PORT and names the bad value', () => {
  expect(parseMetricsAddress('127.0.0.1:9410')).toEqual({ host: '127.0.0.1', port: 9410 });
  expect(parseMetricsAddress('[::1]:9410')).toEqual({ host: '::1', port: 9410 });
  expect(() => parseMetricsAddress('127.0.0.1')).toThrow('metrics address must be HOST:PORT (e.g. 127.0.0.1:9410), got "127.0.0.1"');
  expect(() => parseMetricsAddress('h:70000')).toThrow(/got "h:70000"/);
});

it('serves what the engine decided, and promtool accepts the text', async () => {
  let armed = false;
  const metrics = new Metrics(() => armed);
  decide(metrics, [
    { type: 'config', now: 1, view },
    { type: 'quorum', now: 2, quorate: true, ringId: { nodeId: 2, seq: 8 }, members: [2, 4, 8] },
    { type: 'configVersions', now: 3, versions: { 2: 3, 4: 3, 8: 3 } },
  ]);
  metrics.step({ type: 'addClusterIp' }, 'ok', 12.5);
  metrics.handoverGap(250);
  server = new MetricsServer(metrics);
  const { port } = await server.listen('127.0.0.1', 0);
  const { status, body } = await get(port);
  expect(status).toBe(200);
  for (const line of [
    'corolistener_quorate 1',
    'corolistener_role{role="master"} 1',
    'corolistener_role{role="slave"} 0',
    'corolistener_master_nodeid 4',
    'corolistener_members 3',
    'corolistener_config_version 3',
    'corolistener_decisions_total 3',
    'corolistener_failovers_total 1',
    'corolistener_maintenance 0',
    'corolistener_handover_gap_seconds 0.25',
    'corolistener_step_duration_seconds_count{step="addClusterIp",outcome="ok"} 1',
    'corolistener_watchdog_armed 0',
  ])
    expect(body.split('\n')).toContain(line);
  armed = true; // read at each scrape, from the fencing feeder
  expect((await get(port)).body.split('\n')).toContain('corolistener_watchdog_armed 1');
  const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8', timeout: 60_000 });
  if (check.error !== undefined && (check.error as NodeJS.ErrnoException).code === 'ENOENT' && process.env.CI !== 'true') {
    console.warn('promtool not installed (Debian package prometheus): the format check is skipped');
    return;
  }
  expect(check.stderr + check.stdout).toBe('');
  expect(check.status).toBe(0);
  expect((await get(port, '/')).status).toBe(404);
  expect((await get(port, '/metrics', 'POST')).status).toBe(404);
});

it('drops idle connections after its deadline and bounds how many it keeps', async () => {
  server = new MetricsServer(new Metrics(), 300);
  const { port } = await server.listen('127.0.0.1', 0);
  const closed = await Promise.all(
    Array.from(
      { length: 50 },
      () =>
        new Promise<boolean>((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port });
          opened.push(s);
          s.on('error', () => {});
          s.on('close', () => resolve(true));
        }),
    ),
  );
  expect(closed.every(Boolean)).toBe(true);
  expect((await get(port)).status).toBe(200);
});
