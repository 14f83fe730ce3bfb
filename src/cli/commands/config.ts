// `corolistener config sync|show`: needs the config module (src/config) and, for sync, the
// cluster messages (src/cluster); until they land this refuses clearly.
import type { CliIo } from '../io';
import { notImplemented } from '../not-implemented';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'config'>, io: CliIo): Promise<number> {
  void io;
  return notImplemented(`corolistener config ${command.action}`);
}
