// The machinery of the self-fencing integration tests and benchmark (issue 15), around a
// sandbox cluster:
// - VMs as processes in each node (./vm-agent.ts): suspend = SIGSTOP, resume = SIGCONT,
//   restore = a new process of the same name on the master;
// - a fake watchdog per node: the test process reads the node's FIFO (vmmgr.conf WatchdogDevice);
//   not fed for WatchdogTimeout while armed, it "powers off" the node: every process in its
//   namespaces is killed and its addresses removed. 'V' then close disarms it, as /dev/watchdog;
// - a monitor sampling every 100 ms for a VM running (alive, not stopped) on two nodes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { queryDaemon } from '../daemon/control-socket';
import { parseStatusWithFencing } from '../daemon/fencing-report';
import type { StatusReport } from '../daemon/report';
import type { SandboxCluster } from './cluster';
import { DEFAULT_CLOUD_IP } from './fake-vmmgr';
import { SandboxListener } from './listener';
import { pidsInNamespaces } from './procfs';
import { vmAgentScript, vmNamesOf } from './vm-agent';

export const NODE_DIR = '/run/corolistener';
export const WATCHDOG_TIMEOUT_S = 5;

/** vmmgr.conf of a node: the VM agent for every command, the FIFO as its watchdog. */
export function fencingVmmgrConf(opts: { watchdog: boolean }): string {
  const cmd = (name: string): string => `${name} ${process.execPath} ${vmAgentScript()} ${NODE_DIR} ${name}`;
  return [
    `CloudIp ${DEFAULT_CLOUD_IP}`,
    'CloudMask 24',
    'CloudIpDev vmbr0',
    ...['ServiceStartCommand', 'ServiceStopCommand', 'VmSuspendCommand', 'VmResumeCommand', 'NodeFailedCommand'].map(cmd),
    ...(opts.watchdog ? [`WatchdogDevice ${NODE_DIR}/watchdog`, `WatchdogTimeout ${WATCHDOG_TIMEOUT_S}`] : []),
    '',
  ].join('\n');
}

/** The node's fake watchdog: reads its FIFO, powers the node off when not fed in time. */
export class FakeWatchdog {
  armed = false;
  lastFeed = 0;
  fired: number | null = null;
  private fd: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastByte = '';

  constructor(
    readonly fifo: string,
    readonly timeoutMs: number,
    private readonly powerOff: () => void,
  ) {}

  start(): void {
    fs.mkdirSync(path.dirname(this.fifo), { recursive: true, mode: 0o700 });
    if (!fs.existsSync(this.fifo)) execFileSync('mkfifo', ['-m', '0600', this.fifo]);
    this.fd = fs.openSync(this.fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.timer = setInterval(() => this.poll(), 20);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }

  private poll(): void {
    if (this.fd === null) return;
    const buf = Buffer.alloc(256);
    for (;;) {
      let n: number;
      try {
        n = fs.readSync(this.fd, buf, 0, buf.length, null);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        break; // a writer, nothing written
      }
      if (n === 0) {
        // No writer: after a magic close, disarmed; after a crash, still armed.
        if (this.lastByte === 'V') this.armed = false;
        break;
      }
      this.armed = true;
      this.lastFeed = Date.now();
      this.lastByte = buf.toString('latin1', n - 1, n);
    }
    if (this.armed && this.fired === null && Date.now() - this.lastFeed > this.timeoutMs) {
      this.fired = Date.now();
      this.armed = false;
      this.powerOff();
    }
  }
}

/** "Power off": every process in the node's namespaces killed (stopped ones too), its addresses gone. */
export function powerOff(cluster: SandboxCluster, name: string): void {
  const n = cluster.node(name);
  for (let round = 0; round < 3; round++) {
    const pids = pidsInNamespaces([n.netnsPath, n.mountNsFile]);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
  execFileSync('ip', ['-n', n.netns, 'addr', 'flush', 'dev', 'vmbr0']);
}

/** SIGSTOP / SIGCONT every process in the node (a swap storm, a hung storage path). */
export function signalNode(cluster: SandboxCluster, name: string, sig: 'SIGSTOP' | 'SIGCONT'): number {
  const n = cluster.node(name);
  const pids = pidsInNamespaces([n.netnsPath, n.mountNsFile]);
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone
    }
  }
  return pids.length;
}

/** Where each VM runs: name -> nodes where its process is alive and not stopped. */
export function runningVms(cluster: SandboxCluster): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const n of cluster.nodes) {
    const dir = cluster.hostPath(n.name, `${NODE_DIR}/vms`);
    let files: string[] = [];
    try {
      files = fs.readdirSync(dir).filter((f) => f.endsWith('.pid'));
    } catch {
      continue;
    }
    for (const f of files) {
      const vm = f.slice(0, -4);
      const pid = Number(fs.readFileSync(path.join(dir, f), 'utf8'));
      if (!vmRunning(pid, vm)) continue;
      out.set(vm, [...(out.get(vm) ?? []), n.name]);
    }
  }
  return out;
}

function vmRunning(pid: number, vm: string): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't' || state === 'Z' || state === 'X') return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(vm);
  } catch {
    return false;
  }
}

/** Samples every 100 ms: any VM running on two nodes at once is a violation. */
export class TwiceMonitor {
  readonly violations: string[] = [];
  samples = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly cluster: SandboxCluster) {}

  start(): void {
    this.timer = setInterval(() => {
      this.samples++;
      for (const [vm, nodes] of runningVms(this.cluster)) if (nodes.length > 1) this.violations.push(`${new Date().toISOString()}: ${vm} runs on ${nodes.join(' and ')}`);
    }, 100);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

export interface Restore {
  vm: string;
  from: number;
  by: string;
  ms: number;
  on: string;
}

/** Every restore any node's VMmanager made (fixtures/vm-agent.cjs), oldest first. */
export function restores(cluster: SandboxCluster): Restore[] {
  const out: Restore[] = [];
  for (const n of cluster.nodes) {
    let text = '';
    try {
      text = fs.readFileSync(cluster.hostPath(n.name, `${NODE_DIR}/restores.jsonl`), 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) if (line.trim() !== '') out.push({ ...(JSON.parse(line) as Omit<Restore, 'on'>), on: n.name });
  }
  return out.sort((a, b) => a.ms - b.ms);
}

/** The daemon's status with its fencing part; undefined when it does not answer. */
export async function fencingStatus(l: SandboxListener): Promise<StatusReport | undefined> {
  const answer = await queryDaemon(l.hostPath('socket'), 'status', 2000).catch(() => undefined);
  return answer === undefined ? undefined : parseStatusWithFencing(answer);
}

/** A cluster made ready for fencing tests: watchdogs, VMs and listeners on every node. */
export class FencingRig {
  readonly watchdogs = new Map<string, FakeWatchdog>();
  readonly listeners = new Map<string, SandboxListener>();
  readonly monitor: TwiceMonitor;
  readonly poweredOff = new Map<string, number>();

  constructor(
    readonly cluster: SandboxCluster,
    private readonly opts: { watchdog: boolean } = { watchdog: true },
  ) {
    this.monitor = new TwiceMonitor(cluster);
  }

  async start(): Promise<void> {
    for (const n of this.cluster.nodes) {
      const dir = this.cluster.hostPath(n.name, NODE_DIR);
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
      fs.writeFileSync(path.join(dir, 'vmmgr.conf'), fencingVmmgrConf(this.opts));
      if (this.opts.watchdog) {
        const w = new FakeWatchdog(path.join(dir, 'watchdog'), WATCHDOG_TIMEOUT_S * 1000, () => {
          this.poweredOff.set(n.name, Date.now());
          powerOff(this.cluster, n.name);
        });
        w.start();
        this.watchdogs.set(n.name, w);
      }
      for (const vm of vmNamesOf(n.nodeId)) {
        this.cluster.spawn(n.name, [process.execPath, vmAgentScript(), NODE_DIR, 'vm', vm], { detached: true, stdio: 'ignore' }).unref();
      }
    }
    await Promise.all(
      this.cluster.nodes.map(async (n) => {
        const l = new SandboxListener(this.cluster, n.name);
        await l.start();
        this.listeners.set(n.name, l);
      }),
    );
    this.monitor.start();
  }

  listener(name: string): SandboxListener {
    const l = this.listeners.get(name);
    if (l === undefined) throw new Error(`no listener on ${name}`);
    return l;
  }

  async stop(): Promise<void> {
    this.monitor.stop();
    for (const w of this.watchdogs.values()) w.stop();
    await Promise.all([...this.listeners.values()].map((l) => l.kill().catch(() => undefined)));
  }
}
