// `corolistener sandbox ACTION`: a front end over src/sandbox, which is being built
// separately; until it lands this refuses clearly.
import type { CliIo } from '../io';
import { notImplemented } from '../not-implemented';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'sandbox'>, io: CliIo): Promise<number> {
  void io;
  return notImplemented(`corolistener sandbox ${command.action}`);
}
