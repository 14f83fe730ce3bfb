// `corolistener status`: the running daemon's own state plus its node list.
import type { StatusReport } from '../../daemon/report';
import { formatFencing, parseStatusWithFencing } from '../../daemon/fencing-report';
import type { CliIo } from '../io';
import { formatNodeTable } from '../node-table';
import { EXIT } from '../options';
import { askDaemon, noDaemon, validated } from './daemon-query';
import type { CommandOf } from './types';

export function formatStatus({ daemon, report, fencing }: StatusReport): string {
  const { cluster } = report;
  const master = report.masterNodeId === null ? 'none' : String(report.masterNodeId);
  return [
    `daemon:   pid ${daemon.pid}, version ${daemon.version}, started ${daemon.startedAt}`,
    `corosync: ${daemon.corosyncConnected ? 'connected' : 'not connected'}`,
    `role:     ${daemon.role} (local node ${report.localNodeId}, master ${master})`,
    `cluster:  ${cluster.name}, ${cluster.quorate ? 'quorate' : 'NOT quorate'}, ` + `config_version ${cluster.configVersion}, expected_votes ${cluster.expectedVotes}`,
    ...formatFencing(fencing),
    ...(cluster.maintenance === true ? ['maintenance: on (listeners watch and take no action)'] : []),
    ...(report.nodes.some((n) => n.standby === true)
      ? [
          `standby:  node(s) ${report.nodes
            .filter((n) => n.standby === true)
            .map((n) => n.id)
            .join(',')}`,
        ]
      : []),
    ...(daemon.lastHandover
      ? [`handover: node ${daemon.lastHandover.from} -> ${daemon.lastHandover.to} at ${daemon.lastHandover.at}, no cluster-IP holder for ${daemon.lastHandover.gapMs ?? '?'} ms`]
      : []),
    '',
    formatNodeTable(report),
  ].join('\n');
}

export async function run(command: CommandOf<'status'>, io: CliIo): Promise<number> {
  const answer = await askDaemon(command.socket, 'status', command.timeoutMs);
  if (answer === undefined) throw noDaemon(command.socket);
  const status = validated(command.socket, parseStatusWithFencing, answer);
  io.stdout.write(command.json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return EXIT.OK;
}
