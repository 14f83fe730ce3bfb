// Suspending and resuming this node's VMs. With VmSuspendCommand/VmResumeCommand configured,
// that command runs once with the context environment. Without, libvirt through `virsh`:
// suspend (pause in memory) every running domain, and resume only the given ones, so a VM a
// master has meanwhile restored elsewhere is never resumed here by accident (the caller passes
// only the VMs it is allowed to resume). Both are idempotent: an already paused domain is not
// listed as running, an already running one is not resumed again.

import { type CommandContext, contextEnv } from './command-context';
import { CommandFailedError, type CommandResult, type CommandRunner, runChecked, succeeded } from './command-runner';
import { runWithContext } from './service-control';

export const DEFAULT_VM_TIMEOUT_MS = 60_000;

export interface VmControlOptions {
  readonly runner: CommandRunner;
  /** VmSuspendCommand (argv); default: virsh. */
  readonly suspendCommand?: readonly string[];
  /** VmResumeCommand (argv); default: virsh. */
  readonly resumeCommand?: readonly string[];
  /** How to call virsh (default ['virsh']; e.g. ['virsh', '-c', 'qemu:///system']). */
  readonly virsh?: readonly string[];
  /** Per command (default 60 s). */
  readonly timeoutMs?: number;
}

export type SuspendResult = { readonly via: 'virsh'; readonly suspended: readonly string[] } | { readonly via: 'command'; readonly result: CommandResult };

export type ResumeResult =
  | {
      readonly via: 'virsh';
      readonly resumed: readonly string[];
      readonly alreadyRunning: readonly string[];
      /** Not defined here any more (e.g. undefined after a restore elsewhere): nothing to resume. */
      readonly missing: readonly string[];
    }
  | { readonly via: 'command'; readonly result: CommandResult };

/** Some VMs could not be suspended/resumed; `done` lists the ones that were, before the error. */
export class VmCommandError extends Error {
  constructor(
    message: string,
    readonly done: readonly string[],
    readonly failures: ReadonlyArray<{ readonly vm: string; readonly error: Error }>,
  ) {
    super(message);
    this.name = 'VmCommandError';
  }
}

export interface VmCallOptions {
  readonly signal?: AbortSignal;
  /** Called as each VM is suspended/resumed, so the daemon can record it before anything else fails. */
  readonly onVm?: (vm: string) => void;
}

export function parseVirshNames(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
}

export class VmControl {
  constructor(private readonly options: VmControlOptions) {}

  /** Suspends every running VM; with virsh, returns the ones suspended by this call. */
  async suspendRunning(ctx: CommandContext, call: VmCallOptions = {}): Promise<SuspendResult> {
    if (this.options.suspendCommand?.length) {
      return { via: 'command', result: await runWithContext(this.options.runner, this.options.suspendCommand, ctx, this.callOptions(call)) };
    }
    const running = await this.list('running', ctx, call.signal);
    const suspended = await this.each(running, 'suspend', ctx, call);
    return { via: 'virsh', suspended };
  }

  /** Resumes the given VMs (those paused); with a configured command, runs it once. */
  async resume(vms: readonly string[], ctx: CommandContext, call: VmCallOptions = {}): Promise<ResumeResult> {
    if (this.options.resumeCommand?.length) {
      // The command resumes exactly these: they are its arguments and COROLISTENER_VMS.
      return { via: 'command', result: await runWithContext(this.options.runner, [...this.options.resumeCommand, ...vms], { ...ctx, vms }, this.callOptions(call)) };
    }
    if (vms.length === 0) return { via: 'virsh', resumed: [], alreadyRunning: [], missing: [] };
    const paused = new Set(await this.list('paused', ctx, call.signal));
    const running = new Set(await this.list('running', ctx, call.signal));
    const toResume = vms.filter((v) => paused.has(v));
    const alreadyRunning = vms.filter((v) => running.has(v));
    const missing = vms.filter((v) => !paused.has(v) && !running.has(v));
    const resumed = await this.each(toResume, 'resume', ctx, call);
    return { via: 'virsh', resumed, alreadyRunning, missing };
  }

  private async list(state: 'running' | 'paused', ctx: CommandContext, signal?: AbortSignal): Promise<string[]> {
    const r = await runChecked(this.options.runner, [...this.virsh, 'list', '--name', `--state-${state}`], {
      ...this.callOptions({ signal }),
      env: contextEnv(ctx),
    });
    return parseVirshNames(r.stdout);
  }

  /** Runs `virsh VERB vm` for each VM, all of them even if some fail; throws VmCommandError then. */
  private async each(vms: readonly string[], verb: 'suspend' | 'resume', ctx: CommandContext, call: VmCallOptions): Promise<string[]> {
    const done: string[] = [];
    const failures: Array<{ vm: string; error: Error }> = [];
    for (const vm of vms) {
      const r = await this.options.runner.run([...this.virsh, verb, vm], { ...this.callOptions(call), env: contextEnv(ctx) });
      if (succeeded(r)) {
        done.push(vm);
        call.onVm?.(vm);
      } else {
        failures.push({ vm, error: new CommandFailedError(r) });
      }
    }
    if (failures.length > 0) {
      throw new VmCommandError(`could not ${verb} ${failures.map((f) => f.vm).join(', ')}: ${failures[0].error.message}`, done, failures);
    }
    return done;
  }

  private get virsh(): readonly string[] {
    return this.options.virsh ?? ['virsh'];
  }

  private callOptions(call: { signal?: AbortSignal }) {
    return { timeoutMs: this.options.timeoutMs ?? DEFAULT_VM_TIMEOUT_MS, signal: call.signal };
  }
}
