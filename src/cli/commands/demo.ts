// `corolistener demo`: needs the sandbox and the daemon; until they land this refuses clearly.
import type { CliIo } from '../io';
import { notImplemented } from '../not-implemented';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'demo'>, io: CliIo): Promise<number> {
  void command;
  void io;
  return notImplemented('corolistener demo');
}
