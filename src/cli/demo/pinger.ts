// The demo's client pinging the cluster IP: `ping -O` in the client namespace, every reply
// and every "no answer yet" timestamped as it arrives, so the demo can say when replies
// stopped and when they came back (and how many were lost in between).
import type { ChildProcess } from 'node:child_process';
import type { SandboxClient } from '../../sandbox';

export interface PingEvent {
  /** Date.now() when ping printed the line. */
  at: number;
  seq: number;
  reply: boolean;
}

const REPLY_RE = /bytes from [^:]+: icmp_seq=(\d+)/;
const NO_ANSWER_RE = /no answer yet for icmp_seq=(\d+)/;

/** One line of `ping -O` output as an event, or null for anything else (header, statistics). */
export function parsePingLine(line: string, at: number): PingEvent | null {
  const reply = REPLY_RE.exec(line);
  if (reply) return { at, seq: Number(reply[1]), reply: true };
  const lost = NO_ANSWER_RE.exec(line);
  if (lost) return { at, seq: Number(lost[1]), reply: false };
  return null;
}

export class Pinger {
  readonly events: PingEvent[] = [];
  private child: ChildProcess | null = null;
  private partial = '';

  constructor(
    private readonly client: SandboxClient,
    readonly target: string,
    readonly intervalMs = 200,
  ) {}

  start(): void {
    const child = this.client.spawn(['ping', '-n', '-O', '-W', '1', '-i', String(this.intervalMs / 1000), this.target], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      const lines = (this.partial + chunk).split('\n');
      this.partial = lines.pop()!;
      const now = Date.now();
      for (const l of lines) {
        const e = parsePingLine(l, now);
        if (e) this.events.push(e);
      }
    });
    child.on('error', () => undefined); // reported as "no replies" by the demo
    this.child = child;
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }

  /** Last reply at or before `t`. */
  lastReplyBefore(t: number): PingEvent | undefined {
    return this.events.filter((e) => e.reply && e.at <= t).at(-1);
  }

  /** First reply after `t`, and how many probes went unanswered between `t` and it. */
  firstReplyAfter(t: number): { reply: PingEvent; lost: number } | undefined {
    const after = this.events.filter((e) => e.at > t);
    const i = after.findIndex((e) => e.reply);
    if (i === -1) return undefined;
    return { reply: after[i]!, lost: after.slice(0, i).filter((e) => !e.reply).length };
  }
}
