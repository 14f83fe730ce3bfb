// VMmanager's service and the NodeFailed hook: the commands from vmmgr.conf when configured
// (argv arrays, run once with the COROLISTENER_* context in the environment), built-in
// defaults otherwise.
//
// Defaults: on a VMmanager 5 cloud node the master runs ihttpd, the mgr5 web server that
// serves the panel (corosync.conf's `ihttpd` section lists the ports it takes on a new master);
// the panel core (core/vmmgr) is started on demand by ihttpd. So starting "VMmanager" means
// `systemctl start ihttpd.service` and stopping it `systemctl stop ihttpd.service`; both are
// idempotent in systemd. NodeFailedCommand has no default: a failed node is only logged and
// reported (VMmanager itself restores the VMs once it runs on the master).

import { contextEnv, type CommandContext } from './command-context';
import { type CommandResult, type CommandRunner, runChecked } from './command-runner';

export const DEFAULT_SERVICE_START_COMMAND: readonly string[] = ['systemctl', 'start', 'ihttpd.service'];
export const DEFAULT_SERVICE_STOP_COMMAND: readonly string[] = ['systemctl', 'stop', 'ihttpd.service'];
/** Service start/stop may wait for a unit; generous but bounded. */
export const DEFAULT_SERVICE_TIMEOUT_MS = 120_000;

export interface ConfiguredCommandOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** Runs a configured argv once with the context environment; throws CommandFailedError unless it exits 0. */
export function runWithContext(runner: CommandRunner, argv: readonly string[], ctx: CommandContext, options: ConfiguredCommandOptions = {}): Promise<CommandResult> {
  return runChecked(runner, argv, { timeoutMs: options.timeoutMs, signal: options.signal, env: contextEnv(ctx) });
}

export interface ServiceControlOptions {
  readonly runner: CommandRunner;
  /** ServiceStartCommand (argv); default DEFAULT_SERVICE_START_COMMAND. */
  readonly startCommand?: readonly string[];
  /** ServiceStopCommand (argv); default DEFAULT_SERVICE_STOP_COMMAND. */
  readonly stopCommand?: readonly string[];
  /** NodeFailedCommand (argv); default none. */
  readonly nodeFailedCommand?: readonly string[];
  readonly timeoutMs?: number;
}

export class ServiceControl {
  constructor(private readonly options: ServiceControlOptions) {}

  start(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult> {
    return this.run(this.options.startCommand ?? DEFAULT_SERVICE_START_COMMAND, ctx, signal);
  }

  stop(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult> {
    return this.run(this.options.stopCommand ?? DEFAULT_SERVICE_STOP_COMMAND, ctx, signal);
  }

  /** Runs NodeFailedCommand; undefined when none is configured (the caller just logs). */
  async nodeFailed(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult | undefined> {
    const argv = this.options.nodeFailedCommand;
    if (!argv || argv.length === 0) return undefined;
    return this.run(argv, ctx, signal);
  }

  private run(argv: readonly string[], ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult> {
    return runWithContext(this.options.runner, argv, ctx, { timeoutMs: this.options.timeoutMs ?? DEFAULT_SERVICE_TIMEOUT_MS, signal });
  }
}
