// `corolistener switchover|prio|replication|standby|maintenance ...`: an operator command for
// the cluster, given to the local daemon over the control socket (issue 18). The daemon's engine
// decides (src/engine/operations.ts) and the master writes it; the answer is one line: exit 0
// when done (a switchover: once the new master holds the role and every member has the file),
// 1 with the reason (refused, not done in time), 3 when no daemon answers.
import type { OperateResult } from '../../daemon/operator-desk';
import { CliError, type CliIo } from '../io';
import { EXIT, type OperateName } from '../options';
import { askDaemon, noDaemon } from './daemon-query';
import type { CommandOf } from './types';

/** Time the daemon has beyond the command's own wait to send its answer. */
const ANSWER_GRACE_MS = 10_000;

function parseResult(socket: string, value: unknown): OperateResult {
  const r = value as Partial<OperateResult> | null;
  if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean' || typeof r.message !== 'string') {
    throw new CliError(`unexpected answer from the daemon on ${socket}: not an operator result`, EXIT.FAILURE);
  }
  return r as OperateResult;
}

export async function run(command: CommandOf<OperateName>, io: CliIo): Promise<number> {
  const answer = await askDaemon(command.socket, 'operate', command.timeoutMs + ANSWER_GRACE_MS, { args: command.words, timeoutMs: command.timeoutMs });
  if (answer === undefined) throw noDaemon(command.socket);
  const result = parseResult(command.socket, answer);
  if (command.json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return result.ok ? EXIT.OK : EXIT.FAILURE;
  }
  if (!result.ok) throw new CliError(result.message, EXIT.FAILURE);
  io.stdout.write(`${result.message}\n`);
  return EXIT.OK;
}
