// Real multi-node corosync 3 clusters on one machine, for integration tests, benchmarks, the
// `corolistener sandbox` CLI and the demo.
//
// Layout of a cluster with id <id> (6 hex digits):
//   netns colsb-<id>-hub   bridge hub0 joining veth-<node> of every node (down = node cut off)
//   netns colsb-<id>-<node> eth0 (peer of veth-<node>) enslaved to bridge vmbr0 holding
//                          <subnet>.X/24; corosync runs here, in the node's mount namespace
//   /run/corolistener-sandbox/<id>/  state.json (owner pid, every name), ns/<node>.mnt (mount
//                          namespaces), nodes/<node>/{etc,lib,log,run,tmp} (the node's
//                          /etc/corosync, /var/lib/corosync, /var/log/corosync, /run, /tmp)
//
// Usage:
//   const c = await createCluster({ nodes: [{ nodeId: 2, prio: 99 }, { nodeId: 4, prio: 100 }, { nodeId: 8, prio: 98, replication: false }] });
//   await c.cut('n4'); await c.waitMembers('n2', [2, 8]); await c.heal('n4'); await c.waitFormed();
//   const { stdout } = await c.exec('n2', ['corosync-cmapctl', 'nodelist.']);
//   await c.destroy();
export { createCluster, openCluster, listClusters, SandboxCluster } from './cluster';
export type { NodeRef, SandboxNode, ExecOptions, SpawnOptions, WaitOptions, ClusterSummary, NodeStatus } from './cluster';
export type { ClusterOptions, NodeSpec } from './spec';
export { SandboxSpecError, DEFAULT_STATE_ROOT, fastDetectionOptions } from './spec';
export { cleanupStale } from './teardown';
export { renderCorosyncConf } from './conf';
export type { ConfInput } from './conf';
export { parseQuorumToolStatus, QuorumToolParseError } from './quorumtool';
export type { QuorumToolStatus } from './quorumtool';
export { CommandError } from './command';
export type { CommandResult } from './command';
// Clients on the cluster's LAN, listeners (corolistener run) in nodes, the fake VMmanager.
export { SandboxClient } from './client';
export type { ClientOptions, NeighbourEntry, PingResult } from './client';
export { SandboxListener, startListeners, LISTENER_FILES, cliMainScript, listenerRunArgs } from './listener';
export type { ListenerOptions, ListenerFile } from './listener';
export { VMMGR_COMMANDS, DEFAULT_CLOUD_IP, renderFakeVmmgrConf, readCalls, recorderScript } from './fake-vmmgr';
export type { VmmgrCall, VmmgrCommandName, FakeVmmgrOptions } from './fake-vmmgr';
export { ipv4On, macOf, holdersOf } from './inspect';
export { AddressMonitor } from './address-monitor';
export type { AddressEvent } from './address-monitor';
export { sandboxPrereqProblems, SANDBOX_COMMANDS } from './prereqs';
// Fault scenarios: partitions into groups, the invariant monitor (issue 8).
export { partition, joinPartitions, connectivity } from './partition';
export { ClusterMonitor } from './monitor';
export type { MonitorOptions, SettleResult } from './monitor';
export { sampleViolations, settledProblems, resumeViolations, partitionsOf } from './monitor-checks';
export type { ClusterSample, NodeSample, ListenerView, CommandCall, Violation, Invariant, SettleProblem } from './monitor-checks';
// Self-fencing (issue 15): VMs as processes, a fake watchdog per node, the VM-running-twice monitor.
export { FakeWatchdog, FencingRig, TwiceMonitor, WATCHDOG_TIMEOUT_S, fencingStatus, fencingVmmgrConf, powerOff, restores, runningVms, signalNode } from './fencing-rig';
export type { Restore } from './fencing-rig';
export { vmAgentScript, vmNamesOf } from './vm-agent';
