// `corolistener -l`: the node table from the running daemon, or straight from corosync when
// no daemon answers (e.g. it is stopped for maintenance, hangs, or answers with an error; the
// last two with a warning line on stderr). Roles read straight from corosync are computed here
// (the election over the members and priorities), not held by a daemon: a note on stderr says
// so. A daemon that has no corosync connection has no node list to give: exit 3, one line.
import { parseNodeListWithFencing } from '../../daemon/fencing-report';
import { parseStatusReport, type NodeListReport } from '../../daemon/report';
import { readNodeListFromCorosync } from '../corosync-node-list';
import { CliError, type CliIo } from '../io';
import { formatNodeListJson, formatNodeTable } from '../node-table';
import { EXIT } from '../options';
import { askDaemonOrNone, validated } from './daemon-query';
import type { CommandOf } from './types';

/** Whether the daemon that gave `report` says it has no corosync connection (asked only when no node is joined). */
async function daemonWithoutCorosync(command: CommandOf<'list'>, report: NodeListReport): Promise<boolean> {
  if (report.nodes.some((n) => n.status === 'joined')) return false;
  const status = await askDaemonOrNone(command.socket, 'status', command.timeoutMs, () => undefined).catch(() => undefined);
  if (status === undefined) return false;
  try {
    return parseStatusReport(status).daemon.corosyncConnected === false;
  } catch {
    return false;
  }
}

export async function run(command: CommandOf<'list'>, io: CliIo): Promise<number> {
  const answer = await askDaemonOrNone(command.socket, 'nodes', command.timeoutMs, (why) => io.stderr.write(`corolistener: warning: ${why}; reading the node list straight from corosync\n`));
  let report: NodeListReport;
  if (answer === undefined) {
    report = await readNodeListFromCorosync(command.corosyncConf, command.socket, command.timeoutMs);
    if (report.nodes.some((n) => n.role !== '-')) {
      io.stderr.write('corolistener: note: no daemon answered: the M/S roles are computed from the members and priorities, not held by a running daemon\n');
    }
  } else {
    report = validated(command.socket, parseNodeListWithFencing, answer);
    if (await daemonWithoutCorosync(command, report)) {
      throw new CliError(`the corolistener daemon on ${command.socket} has no connection to corosync (it keeps retrying; is corosync running?): no node list to show`, EXIT.UNREACHABLE);
    }
  }
  io.stdout.write(command.json ? formatNodeListJson(report) : formatNodeTable(report));
  return EXIT.OK;
}
