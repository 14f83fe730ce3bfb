// What `corolistener run` says on the terminal (stderr) besides its log file: one line when the
// daemon runs without corosync (cannot connect, or corosync went away) and one when it is
// connected again; nothing while the state stays the same, however often the daemon retries
// (its log has each attempt); one line when self-fencing is off at start, one when a clean stop
// disarms the watchdog. Fed with the daemon's log lines (createLogger's onLine).

export type NoticeState = 'unknown' | 'connected' | 'without-corosync';

export class RunNotices {
  private state: NoticeState = 'unknown';

  constructor(
    private readonly write: (line: string) => void,
    private readonly logFile: string,
  ) {}

  /** One log line of the daemon (its fields). */
  onLine(fields: Record<string, unknown>): void {
    const event = fields.event;
    const error = typeof fields.error === 'string' ? fields.error : undefined;
    // Self-fencing (src/daemon/fencing-feeder.ts): off at start, or disarmed at a clean stop.
    if (event === 'fencing-off') this.write('corolistener: warning: self-fencing is off (no WatchdogDevice in vmmgr.conf)');
    if (event === 'fencing-disarmed') this.write(`corolistener: warning: watchdog disarmed: this node is no longer protected by self-fencing`);
    if (event === 'corosync-connected') {
      if (this.state === 'without-corosync') this.write('corolistener: connected to corosync');
      this.state = 'connected';
    } else if (event === 'corosync-connect' || event === 'corosync-disconnect') {
      if (this.state === 'without-corosync') return;
      this.state = 'without-corosync';
      const what = event === 'corosync-connect' ? 'cannot connect to corosync' : 'corosync went away';
      this.write(`corolistener: warning: ${what}${error ? ` (${error})` : ''}; running without it (as without quorum: no master duties, VMs suspended) and retrying; details in ${this.logFile}`);
    }
  }
}
