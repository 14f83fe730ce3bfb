// What the demo narrates: the cluster as seen from outside the daemons, polled and diffed.
// Each poll compares the listeners' reported roles (control socket), which node holds the
// cluster IP (`ip` in each node) and the commands the fake VMmanager recorded, with the
// previous poll, and returns what changed as timestamped lines.
import type { SandboxCluster, SandboxListener, VmmgrCall } from '../../sandbox';
import { holdersOf } from '../../sandbox';

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
  master: 'is master',
  slave: 'is a slave',
  suspended: 'is suspended (no quorum)',
  unknown: 'has no role yet',
};

/** How a recorded command is narrated: its name and the context that matters. */
export function describeCall(node: string, call: VmmgrCall): string {
  const failed = call.env.COROLISTENER_FAILED_NODES;
  const ctx = failed ? ` (COROLISTENER_FAILED_NODES=${failed})` : '';
  return `${node} ran ${call.name}${ctx}`;
}

export class ClusterWatch {
  private picture: ClusterPicture | null = null;
  private seenCalls = new Map<string, number>();

  constructor(
    private readonly cluster: SandboxCluster,
    private readonly listeners: readonly SandboxListener[],
    private readonly clusterIp: string,
  ) {}

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

  /** Forget the calls recorded so far: later polls report only newer ones. */
  skipRecordedCalls(): void {
    for (const l of this.listeners) this.seenCalls.set(l.node.name, l.calls().length);
  }

  async poll(): Promise<WatchEvent[]> {
    const now = Date.now();
    const roles = Object.fromEntries(
      await Promise.all(
        this.listeners.map(async (l) => [l.node.name, (await l.status(1_000).catch(() => undefined))?.daemon.role ?? 'no answer'] as const),
      ),
    );
    const ipHolders = await holdersOf(this.cluster, this.clusterIp);
    const events: WatchEvent[] = [];
    const prev = this.picture;
    for (const [node, role] of Object.entries(roles)) {
      if (prev?.roles[node] !== role) events.push({ at: now, text: `${node} ${ROLE_TEXT[role] ?? `listener: ${role}`}` });
    }
    if (prev !== null) {
      for (const n of prev.ipHolders.filter((x) => !ipHolders.includes(x))) events.push({ at: now, text: `${n} dropped the cluster IP ${this.clusterIp}` });
    }
    for (const n of ipHolders.filter((x) => !prev?.ipHolders.includes(x))) {
      events.push({ at: now, text: `${n} holds the cluster IP ${this.clusterIp} on vmbr0` });
    }
    for (const l of this.listeners) {
      const calls = l.calls();
      const seen = this.seenCalls.get(l.node.name) ?? 0;
      for (const c of calls.slice(seen)) events.push({ at: c.ms, text: describeCall(l.node.name, c) });
      this.seenCalls.set(l.node.name, calls.length);
    }
    this.picture = { roles, ipHolders };
    return events.sort((a, b) => a.at - b.at);
  }
}
