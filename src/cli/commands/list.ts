// `corolistener -l`: the node table from the running daemon, or straight from corosync when
// no daemon answers (e.g. it is stopped for maintenance, hangs, or answers with an error; the
// last two with a warning line on stderr).
import { parseNodeListReport, type NodeListReport } from '../../daemon/report';
import { readNodeListFromCorosync } from '../corosync-node-list';
import type { CliIo } from '../io';
import { formatNodeListJson, formatNodeTable } from '../node-table';
import { EXIT } from '../options';
import { askDaemonOrNone, validated } from './daemon-query';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'list'>, io: CliIo): Promise<number> {
  const answer = await askDaemonOrNone(command.socket, 'nodes', command.timeoutMs, (why) =>
    io.stderr.write(`corolistener: warning: ${why}; reading the node list straight from corosync\n`),
  );
  const report: NodeListReport =
    answer === undefined
      ? await readNodeListFromCorosync(command.corosyncConf, command.socket, command.timeoutMs)
      : validated(command.socket, parseNodeListReport, answer);
  io.stdout.write(command.json ? formatNodeListJson(report) : formatNodeTable(report));
  return EXIT.OK;
}
