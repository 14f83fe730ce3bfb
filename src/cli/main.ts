#!/usr/bin/env node
// `corolistener`: the package's bin (dist/cli/main.js). Parses the command line, runs one
// command, exits with its code (EXIT in ./options). Each error is one line on stderr,
// `corolistener: MESSAGE` (several errors, several lines); usage errors add where the help is.
import { errnoTextInWords } from '../util/file-error';
import { VERSION } from '../version';
import { runCommand } from './commands';
import { CliError, processIo, type CliIo } from './io';
import { EXIT, helpText, parseCommandLine, UsageError, type Command } from './options';

function helpHint(topic: string | undefined): string {
  return topic === undefined ? 'corolistener --help' : `corolistener ${topic === 'list' ? '-l' : topic} --help`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** An error message as lines on stderr: one error per line, file errors in words. */
function errorLines(text: string): string {
  return errnoTextInWords(text)
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .map((l) => `corolistener: ${l}\n`)
    .join('');
}

/** Runs `corolistener ARGV...` and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let command: Command;
  try {
    command = parseCommandLine(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`corolistener: ${oneLine(err.message)} (see ${helpHint(err.topic)})\n`);
    return EXIT.USAGE;
  }
  try {
    switch (command.name) {
      case 'help':
        io.stdout.write(helpText(command.topic));
        return EXIT.OK;
      case 'version':
        io.stdout.write(`${VERSION}\n`);
        return EXIT.OK;
      default:
        return await runCommand(command, io);
    }
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr.write(errorLines(err.message));
      return err.exitCode;
    }
    io.stderr.write(errorLines(err instanceof Error ? err.message : String(err)));
    return EXIT.FAILURE;
  }
}

if (require.main === module) {
  // `corolistener -l | head -1` closes our stdout early; that is not an error worth a trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  void main(process.argv.slice(2)).then((code) => {
    // exitCode, not exit(): let stdout drain when it is a pipe.
    process.exitCode = code;
  });
}
