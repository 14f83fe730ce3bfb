// The fake VMmanager's command (see ./fake-vmmgr): `node record-command.js CALLS_FILE NAME [ARGS...]`
// appends one JSON line (NAME, time, pid, ARGS, the COROLISTENER_* environment) to CALLS_FILE
// and exits 0, as a VMmanager command that did its job would.
import { appendCall, callRecord, isVmmgrCommandName, VMMGR_COMMANDS } from './fake-vmmgr';

function main(argv: readonly string[]): number {
  const [file, name, ...args] = argv;
  if (file === undefined || name === undefined || !isVmmgrCommandName(name)) {
    process.stderr.write(`usage: record-command CALLS_FILE NAME [ARGS...]; NAME one of ${VMMGR_COMMANDS.join(', ')}\n`);
    return 2;
  }
  appendCall(file, callRecord(name, args, process.env));
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
