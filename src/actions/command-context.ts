// The context every command corolistener runs receives in its environment, so a configured
// VMmanager command can act on the decision without any argument ever being built from a string.

export type ContextRole = 'master' | 'slave' | 'suspended';

export interface CommandContext {
  readonly role: ContextRole;
  readonly nodeId: number;
  /** The cluster IP (CloudIp), when configured. */
  readonly clusterIp?: string;
  /** ihttpd.port0 from corosync.conf, when configured. */
  readonly ihttpdPort?: number;
  /** Configured nodes not in the membership (the nodes whose VMs need restoring). */
  readonly failedNodes?: readonly number[];
  /** VmResumeCommand: the VMs it may resume (also its arguments); COROLISTENER_VMS, comma-separated. */
  readonly vms?: readonly string[];
}

/** The COROLISTENER_* variables for a context; absent values become empty strings, never "undefined". */
export function contextEnv(ctx: CommandContext): Record<string, string> {
  return {
    COROLISTENER_ROLE: ctx.role,
    COROLISTENER_NODEID: String(ctx.nodeId),
    COROLISTENER_CLUSTER_IP: ctx.clusterIp ?? '',
    COROLISTENER_IHTTPD_PORT: ctx.ihttpdPort === undefined ? '' : String(ctx.ihttpdPort),
    COROLISTENER_FAILED_NODES: (ctx.failedNodes ?? []).join(','),
    ...(ctx.vms === undefined ? {} : { COROLISTENER_VMS: ctx.vms.join(',') }),
  };
}
