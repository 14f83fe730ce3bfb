// Public entry point of the corolistener package (the library VMmanager's node agent imports).
// Each module re-exports its public surface here as it lands.

// corosync binding
export { CorosyncError, CS_ERRORS } from './corosync/errors';
export type { CsErrorCode } from './corosync/errors';
export { Quorum } from './corosync/quorum';
export type { QuorumEvents } from './corosync/quorum';
export { Cpg } from './corosync/cpg';
export type { CpgEvents } from './corosync/cpg';
export { Cmap } from './corosync/cmap';
export type { CmapEvents, CmapTrackListener } from './corosync/cmap';
export { Cfg } from './corosync/cfg';
export type { CfgEvents } from './corosync/cfg';
export { Votequorum } from './corosync/votequorum';
export type { VotequorumEvents, VotequorumInfo } from './corosync/votequorum';
export type { CmapTrackEvent, CmapValue, CpgAddress, CpgConfchgEvent, CpgMessageEvent, CpgTotemEvent, NodelistEvent, QuorumEvent, RingId } from './corosync/bindings';
export { SEND_RETRY, SYNC_RETRY } from './corosync/retry';
export type { RetryPolicy } from './corosync/retry';

// The sandbox (real corosync clusters in network namespaces, test machinery) is not part of the
// product: its own entry point is `corolistener/sandbox` (src/sandbox/index.ts).

// daemon: reports, control socket, logger (cli work)
export type { NodeListReport, NodeListEntry, NodeStatus, NodeRole, DaemonStatus, StatusReport } from './daemon/report';
export { parseNodeListReport, parseStatusReport, ReportShapeError } from './daemon/report';
export type { ControlCommand, ControlHandler, ControlSocketOptions, ControlSocketServer } from './daemon/control-socket';
export { startControlSocket, queryDaemon, ControlSocketError, CONTROL_COMMANDS } from './daemon/control-socket';
export type { DaemonLogger, LoggerOptions } from './daemon/logger';
export { createLogger, reopenOnSighup, DEFAULT_LOG_FILE } from './daemon/logger';

// daemon: the corolistener daemon in-process (corosync -> engine -> actions)
export { Corolistener } from './daemon/corolistener';
export type { CorolistenerOptions } from './daemon/corolistener';
export { localOnlyPublisher } from './daemon/default-publisher';
export { SYSTEM_CLOCK } from './daemon/ports';
export type { Clock, CorolistenerEvents, DaemonActions, DecisionEvent, LinkMonitorLike } from './daemon/ports';
export type { ConfigLink, ConfigPublisher } from './cluster/publisher-port';
export { Interpreter } from './daemon/interpreter';
export type { EffectHandlers, InterpreterOptions } from './daemon/interpreter';
export { NativeCorosyncPort } from './daemon/corosync-port';
export type { CorosyncHandlers, CorosyncPort, CorosyncSession } from './daemon/corosync-port';
export { buildNodeListReport, clusterViewOf } from './daemon/node-report';
export { CPG_GROUP, FAILURE_RECORDS, createMessageCodec, validateFailureRecordsBody } from './cluster/messages';
export type { FailureRecordsBody } from './cluster/messages';

// cli: node table
export { formatNodeTable, formatNodeListJson } from './cli/node-table';

// config
export * from './config/index';

// actions
export { ExecCommandRunner, prefixRunner, CommandFailedError } from './actions/command-runner';
export type { CommandRunner, CommandResult, RunOptions } from './actions/command-runner';
export type { CommandContext } from './actions/command-context';
export { DuplicateAddressError } from './actions/arping';
export { StateFileError } from './actions/state-file';

// engine
export * from './engine';

// cluster: configuration distribution over CPG and the config sync service (confsync)
export { ClusterKey, DEFAULT_AUTHKEY_FILE } from './cluster/cluster-key';
export { CONFIG_ACK, CONFIG_HELLO, CONFIG_OFFER, MAX_CONFIG_BYTES, encodeConfigMessage, isConfigMessageType, registerConfigMessages, sha256Hex } from './cluster/config-messages';
export type { ConfigAck, ConfigHello, ConfigMessage, ConfigOffer } from './cluster/config-messages';
export { ConfigDistributor, DEFAULT_ACK_TIMEOUT_MS, DEFAULT_RETRY_BACKOFF, supersedes, type ConfigConflictReport } from './cluster/config-distributor';
export type { ConfigDistributorDeps, DistributionRound, DistributorLog, LocalConfig } from './cluster/config-distributor';
export { ConfigSyncServer, DEFAULT_SYNC_PORT, SyncProtocolError, fetchConfigFromPeer } from './cluster/config-sync';
export type { ConfigSyncServerOptions, FetchOptions, SyncResponse } from './cluster/config-sync';
export { installConfig, readLocalConfig } from './cluster/local-config';
export { ConfigChannel } from './cluster/config-channel';
export type { ConfigChannelOptions } from './cluster/config-channel';
export { ClusterConfigPublisher } from './cluster/config-publisher';
export type { ClusterConfigPublisherOptions } from './cluster/config-publisher';
export { syncFromPeers } from './cluster/sync-from-peers';
export type { SyncFromPeersOptions, SyncOutcome } from './cluster/sync-from-peers';
