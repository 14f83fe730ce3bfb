// The fake VMmanager's command (see ./fake-vmmgr): `node record-command.js CALLS_FILE NAME [ARGS...]`
// appends one JSON line (NAME, time, pid, ARGS, the COROLISTENER_* environment) to CALLS_FILE
// and exits 0, as a VMmanager command that did its job would. VmSuspendCommand prints the
// node's fake VMs one per line, as the daemon expects of a configured suspend command, so the
// daemon knows what it suspended and resumes it when nobody restored it elsewhere.
import { appendCall, callRecord, fakeVmNames, isVmmgrCommandName, VMMGR_COMMANDS } from './fake-vmmgr';

function main(argv: readonly string[]): number {
  const [file, name, ...args] = argv;
  if (file === undefined || name === undefined || !isVmmgrCommandName(name)) {
    process.stderr.write(`usage: record-command CALLS_FILE NAME [ARGS...]; NAME one of ${VMMGR_COMMANDS.join(', ')}\n`);
    return 2;
  }
  appendCall(file, callRecord(name, args, process.env));
  if (name === 'VmSuspendCommand')
    process.stdout.write(
      fakeVmNames(process.env['COROLISTENER_NODEID'] ?? '0')
        .map((vm) => `${vm}\n`)
        .join(''),
    );
  return 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
