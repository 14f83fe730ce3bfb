// Shared by the cluster tests: corosync.conf texts for a 3-node cluster, a cluster key, a
// recording logger.
import { ClusterKey } from '../../../src/cluster/cluster-key';

export const KEY = ClusterKey.fromSecret(Buffer.alloc(64, 7), 'test key');
export const OTHER_KEY = ClusterKey.fromSecret(Buffer.alloc(64, 8), 'other key');

/** A valid corosync.conf for nodes 1..3 (198.18.0.1..3), with prios and config_version. */
export function confText(version: number | bigint, prios: readonly number[] = [100, 90, 80], extra = ''): string {
  return [
    '# cluster test file',
    'totem {',
    '  version: 2',
    '  cluster_name: VMmanager',
    `  config_version: ${version}`,
    '  crypto_cipher: none',
    '  crypto_hash: none',
    '}',
    'quorum {',
    '  provider: corosync_votequorum',
    '  expected_votes: 3',
    '}',
    'nodelist {',
    ...prios.flatMap((prio, i) => ['  node {', `    ring0_addr: 198.18.0.${i + 1}`, `    nodeid: ${i + 1}`, `    prio: ${prio}`, '    replication: on', '  }']),
    '}',
    extra,
  ].join('\n');
}

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  msg: string;
  obj: object;
}

export function recordingLog(): { lines: LogLine[]; info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void } {
  const lines: LogLine[] = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}
