// Everything one node can do, built from its settings (vmmgr.conf values, lock dir), so the
// daemon maps each engine effect to one call here. Each call is idempotent ("make it so");
// the cluster IP calls are no-ops when no CloudIp is configured.

import { type ArpSent, type AnnounceOptions, type DuplicateCheckOptions } from './arping';
import { ClusterIp, localClusterIpStatus } from './cluster-ip';
import type { CommandContext } from './command-context';
import { type CommandResult, type CommandRunner, ExecCommandRunner } from './command-runner';
import { LockFiles } from './lock-files';
import { type ClusterIpNetwork, NativeNetwork } from './native-net';
import { ServiceControl } from './service-control';
import { type ResumeResult, type SuspendResult, type VmCallOptions, VmControl } from './vm-control';

export interface NodeActionsOptions {
  /** Default: a real ExecCommandRunner. */
  readonly runner?: CommandRunner;
  /** Where the VMmanager lock files live (default /tmp). */
  readonly lockDir?: string;
  /** CloudIp / CloudMask (as a prefix length) / CloudIpDev; absent when no cluster IP is configured. */
  readonly clusterIp?: {
    readonly ip: string;
    readonly prefixLength: number;
    readonly dev?: string;
    readonly duplicateCheck?: DuplicateCheckOptions | false;
    readonly announce?: AnnounceOptions;
  };
  /** The vmmgr.conf commands, each an argv; absent ones use the built-in defaults. */
  readonly commands?: {
    readonly serviceStart?: readonly string[];
    readonly serviceStop?: readonly string[];
    readonly vmSuspend?: readonly string[];
    readonly vmResume?: readonly string[];
    readonly nodeFailed?: readonly string[];
  };
  readonly onArpSent?: (sent: ArpSent) => void;
  /**
   * The cluster IP's network calls without processes. Default: the addon's (NativeNetwork) when
   * no runner is given (the commands would run here, in this network namespace), none otherwise.
   */
  readonly network?: ClusterIpNetwork;
  /** A background gratuitous ARP of the cluster IP failed (the next addClusterIp re-announces). */
  readonly onAnnounceFailed?: (error: Error) => void;
}

export class NodeActions {
  readonly locks: LockFiles;
  readonly service: ServiceControl;
  readonly vms: VmControl;
  readonly clusterIp: ClusterIp | undefined;

  constructor(options: NodeActionsOptions = {}) {
    const runner = options.runner ?? new ExecCommandRunner();
    const c = options.commands ?? {};
    this.locks = new LockFiles(options.lockDir ?? '/tmp');
    this.service = new ServiceControl({ runner, startCommand: c.serviceStart, stopCommand: c.serviceStop, nodeFailedCommand: c.nodeFailed });
    this.vms = new VmControl({ runner, suspendCommand: c.vmSuspend, resumeCommand: c.vmResume });
    this.clusterIp =
      options.clusterIp &&
      new ClusterIp({
        runner,
        // The default runner runs the commands here, in our network namespace: everything the
        // cluster IP needs can be done from this process, without a process start on the
        // takeover's path (native-net.ts). An injected runner (tests, simulator) may act
        // elsewhere: it keeps the commands.
        localStatus: options.runner === undefined ? localClusterIpStatus : undefined,
        network: options.network ?? (options.runner === undefined ? new NativeNetwork() : undefined),
        ...options.clusterIp,
        onArpSent: options.onArpSent,
        onAnnounceFailed: options.onAnnounceFailed,
      });
  }

  /** Starts the read-only checks of addClusterIp ahead (see ClusterIp.prepare). */
  prepareClusterIp(): void {
    this.clusterIp?.prepare();
  }

  async addClusterIp(signal?: AbortSignal): Promise<{ changed: boolean }> {
    return this.clusterIp ? this.clusterIp.ensurePresent(signal) : { changed: false };
  }

  async removeClusterIp(signal?: AbortSignal): Promise<{ changed: boolean }> {
    return this.clusterIp ? this.clusterIp.ensureAbsent(signal) : { changed: false };
  }

  async createServiceLock(): Promise<{ changed: boolean }> {
    return { changed: await this.locks.ensureServiceLock() };
  }

  async removeServiceLock(): Promise<{ changed: boolean }> {
    return { changed: await this.locks.removeServiceLock() };
  }

  /** Fresh takeover only: VMmanager recreates it once it has restored. */
  async removeStaleRelocatedLock(): Promise<{ changed: boolean }> {
    return { changed: await this.locks.removeRelocatedLock() };
  }

  startService(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult> {
    return this.service.start(ctx, signal);
  }

  stopService(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult> {
    return this.service.stop(ctx, signal);
  }

  suspendVms(ctx: CommandContext, call?: VmCallOptions): Promise<SuspendResult> {
    return this.vms.suspendRunning(ctx, call);
  }

  resumeVms(vms: readonly string[], ctx: CommandContext, call?: VmCallOptions): Promise<ResumeResult> {
    return this.vms.resume(vms, ctx, call);
  }

  nodeFailed(ctx: CommandContext, signal?: AbortSignal): Promise<CommandResult | undefined> {
    return this.service.nodeFailed(ctx, signal);
  }
}
