// The command registry: one module per command in this directory, each exporting
// `run(command, io): Promise<number>`. Imports are static (CommonJS output; dynamic import()
// of extensionless paths does not resolve there), so a command module should load heavy
// dependencies (the native addon) inside its run(), not at its top level, to keep `-l`
// and `--help` working on a machine where the addon cannot load.
import type { CliIo } from '../io';
import type { Command, CommandName } from '../options';
import { run as config } from './config';
import { run as demo } from './demo';
import { run as history } from './history';
import { run as operate } from './operate';
import { run as list } from './list';
import { run as runDaemon } from './run';
import { run as sandbox } from './sandbox';
import { run as status } from './status';
import type { CommandRun } from './types';

export const COMMANDS: { [N in CommandName]: CommandRun<N> } = {
  run: runDaemon,
  list,
  status,
  config,
  sandbox,
  demo,
  switchover: operate,
  prio: operate,
  replication: operate,
  standby: operate,
  maintenance: operate,
  node: operate,
  history,
};

export function runCommand(command: Extract<Command, { name: CommandName }>, io: CliIo): Promise<number> {
  // TypeScript cannot correlate COMMANDS[name] with the narrowed command; the mapped type
  // above guarantees each entry takes its own command variant.
  const run = COMMANDS[command.name] as (c: typeof command, io: CliIo) => Promise<number>;
  return run(command, io);
}
