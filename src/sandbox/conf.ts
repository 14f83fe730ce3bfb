// The corosync.conf every sandbox node starts with: a VMmanager-style cluster over knet,
// without crypto (nothing leaves the sandbox's namespaces), logging to a file in the node's
// private /var/log/corosync instead of syslog. Pure.

/** What the generated configuration depends on (a subset of ResolvedCluster). */
export interface ConfInput {
  clusterName: string;
  configVersion: number;
  tokenMs: number;
  /** Written only when set (corosync's default otherwise). */
  tokenCoefficientMs?: number;
  /** Written only when set (corosync's 4 otherwise). */
  tokenRetransmitsBeforeLoss?: number;
  /** Written only when set (corosync's 1.2 x token otherwise). */
  consensusMs?: number;
  /** Written only when set (corosync derives both from the token otherwise). */
  knetPing?: { intervalMs: number; timeoutMs: number };
  nodes: ReadonlyArray<{ name: string; nodeId: number; prio: number; replication: boolean; address: string }>;
}

/** Path of corosync's log file as the node sees it (its private /var/log/corosync). */
export const NODE_LOG_FILE = '/var/log/corosync/corosync.log';

export function renderCorosyncConf(input: ConfInput): string {
  const nodes = input.nodes.map((n) =>
    ['  node {', `    ring0_addr: ${n.address}`, `    nodeid: ${n.nodeId}`, `    name: ${n.name}`, `    prio: ${n.prio}`, `    replication: ${n.replication ? 'on' : 'off'}`, '  }'].join('\n'),
  );
  return [
    'totem {',
    '  version: 2',
    `  cluster_name: ${input.clusterName}`,
    `  config_version: ${input.configVersion}`,
    '  transport: knet',
    '  crypto_cipher: none',
    '  crypto_hash: none',
    `  token: ${input.tokenMs}`,
    ...(input.tokenCoefficientMs === undefined ? [] : [`  token_coefficient: ${input.tokenCoefficientMs}`]),
    ...(input.tokenRetransmitsBeforeLoss === undefined ? [] : [`  token_retransmits_before_loss_const: ${input.tokenRetransmitsBeforeLoss}`]),
    ...(input.consensusMs === undefined ? [] : [`  consensus: ${input.consensusMs}`]),
    ...(input.knetPing === undefined
      ? []
      : ['  interface {', '    linknumber: 0', `    knet_ping_interval: ${input.knetPing.intervalMs}`, `    knet_ping_timeout: ${input.knetPing.timeoutMs}`, '  }']),
    '}',
    '',
    'quorum {',
    '  provider: corosync_votequorum',
    `  expected_votes: ${input.nodes.length}`,
    '}',
    '',
    'ihttpd {',
    '  count: 1',
    '  port0: 1500',
    '}',
    '',
    'nodelist {',
    ...nodes,
    '}',
    '',
    'logging {',
    '  to_syslog: no',
    '  to_stderr: no',
    '  to_logfile: yes',
    `  logfile: ${NODE_LOG_FILE}`,
    '  timestamp: on',
    '}',
    '',
  ].join('\n');
}
