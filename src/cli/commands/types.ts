// The contract every `corolistener` command module fulfils: take the parsed command, do the
// work, return the exit code (see EXIT in ../options). Failures that deserve one line on
// stderr are thrown as CliError; anything else thrown is reported by main as a runtime failure.
import type { CliIo } from '../io';
import type { Command } from '../options';

export type CommandOf<N extends Command['name']> = Extract<Command, { name: N }>;

export type CommandRun<N extends Command['name']> = (command: CommandOf<N>, io: CliIo) => Promise<number>;
