// `corolistener run`: the daemon. Wiring corosync -> engine -> actions lands with the daemon
// work (issue 5); until then this refuses clearly instead of pretending to run.
import type { CliIo } from '../io';
import { notImplemented } from '../not-implemented';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'run'>, io: CliIo): Promise<number> {
  void command;
  void io;
  return notImplemented('corolistener run (the daemon)');
}
