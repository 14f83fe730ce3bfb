// When an address appears on / leaves a sandbox node's interface, as `ip monitor` reports it:
// event driven, so failover times are not rounded up to a polling interval. Used by the daemon's
// integration tests and by `corolistener demo`. The monitor runs inside the node's network
// namespace, so tearing the cluster down ends it too.
import { spawn, type ChildProcess } from 'node:child_process';
import type { SandboxCluster } from './cluster';

export interface AddressEvent {
  /** Date.now() when the event was read. */
  at: number;
  /** true: the address was added; false: deleted. */
  added: boolean;
}

/**
 * Subscribing takes a moment: an event before it is missed, so callers keep a polled view and
 * let the events only refine its times.
 */
export class AddressMonitor {
  /** Every change of the address, oldest first. */
  readonly events: AddressEvent[] = [];
  private readonly child: ChildProcess;

  constructor(cluster: SandboxCluster, node: string, ip: string, dev = 'vmbr0') {
    this.child = spawn('ip', ['-n', cluster.node(node).netns, '-o', 'monitor', 'address', 'dev', dev], { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child.on('error', () => undefined); // no `ip`: no events; the polled view stands
    let partial = '';
    this.child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      const now = Date.now();
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const l of lines) {
        if (l.includes(` inet ${ip}/`)) this.events.push({ at: now, added: !l.startsWith('Deleted') });
      }
    });
  }

  /** When the address was first added, if seen. */
  get added(): number | undefined {
    return this.events.find((e) => e.added)?.at;
  }

  /** When the address was first deleted, if seen. */
  get deleted(): number | undefined {
    return this.events.find((e) => !e.added)?.at;
  }

  stop(): void {
    this.child.kill('SIGKILL');
  }
}
