// VMs as processes in a sandbox node, and the VMmanager commands that act on them: the
// self-fencing tests' and benchmark's stand-in for VMmanager (issue 15; ./fencing-rig.ts).
// Built to dist/sandbox/vm-agent.js and run inside the node; DIR is the node's /run/corolistener.
//
//   vm-agent.js DIR vm NAME             a VM: writes DIR/vms/NAME.pid and runs until killed
//   vm-agent.js DIR VmSuspendCommand    SIGSTOP every VM of the node, print their names (one a
//                                       line, the daemon's contract); hangs forever when
//                                       DIR/hang-suspend exists
//   vm-agent.js DIR VmResumeCommand VM...   SIGCONT the given VMs (also in COROLISTENER_VMS)
//   vm-agent.js DIR ServiceStartCommand | NodeFailedCommand   restore: a new VM process of the
//                                       same name here for every VM of COROLISTENER_FAILED_NODES
//                                       (vm<ID>a, vm<ID>b), logged in DIR/restores.jsonl
//   vm-agent.js DIR ServiceStopCommand  nothing
// Every command call is recorded in DIR/vmmgr-calls.jsonl as the fake VMmanager's recorder does.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { appendCall, callRecord, isVmmgrCommandName } from './fake-vmmgr';

/** The VMs a sandbox node starts with (the same names VMmanager restores elsewhere). */
export function vmNamesOf(nodeId: number | string): string[] {
  return [`vm${nodeId}a`, `vm${nodeId}b`];
}

/** dist/sandbox/vm-agent.js of this package, whether running from src/ (tests) or dist/. */
export function vmAgentScript(): string {
  return path.resolve(__dirname, '..', '..', 'dist', 'sandbox', 'vm-agent.js');
}

function vmPids(dir: string): Array<{ name: string; pid: number }> {
  const vmsDir = path.join(dir, 'vms');
  let names: string[] = [];
  try {
    names = fs.readdirSync(vmsDir).filter((f) => f.endsWith('.pid'));
  } catch {
    return [];
  }
  return names.map((f) => ({ name: f.slice(0, -4), pid: Number(fs.readFileSync(path.join(vmsDir, f), 'utf8')) }));
}

function signalVm(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

const forever = (): void => void setInterval(() => undefined, 60_000);

function main(argv: readonly string[]): number {
  const [dir, action, ...args] = argv;
  if (dir === undefined || action === undefined) {
    process.stderr.write('usage: vm-agent DIR vm NAME | DIR COMMAND [ARGS...]\n');
    return 2;
  }
  if (action === 'vm') {
    fs.mkdirSync(path.join(dir, 'vms'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'vms', `${args[0]}.pid`), String(process.pid));
    // A VM is stopped and continued by signals only: the SIGHUP an orphaned process group with a
    // stopped member gets must not end it.
    process.on('SIGHUP', () => undefined);
    forever();
    return 0;
  }
  if (!isVmmgrCommandName(action)) {
    process.stderr.write(`vm-agent: unknown action ${action}\n`);
    return 2;
  }
  appendCall(path.join(dir, 'vmmgr-calls.jsonl'), callRecord(action, args, process.env));
  switch (action) {
    case 'VmSuspendCommand':
      if (fs.existsSync(path.join(dir, 'hang-suspend'))) {
        forever();
        return 0;
      }
      for (const vm of vmPids(dir)) if (signalVm(vm.pid, 'SIGSTOP')) process.stdout.write(`${vm.name}\n`);
      return 0;
    case 'VmResumeCommand': {
      const wanted = new Set(args);
      for (const vm of vmPids(dir)) if (wanted.has(vm.name)) signalVm(vm.pid, 'SIGCONT');
      return 0;
    }
    case 'ServiceStartCommand':
    case 'NodeFailedCommand':
      for (const id of (process.env['COROLISTENER_FAILED_NODES'] ?? '').split(',').filter(Boolean)) {
        for (const name of vmNamesOf(id)) {
          spawn(process.execPath, [__filename, dir, 'vm', name], { detached: true, stdio: 'ignore' }).unref();
          fs.appendFileSync(path.join(dir, 'restores.jsonl'), `${JSON.stringify({ vm: name, from: Number(id), by: action, ms: Date.now() })}\n`);
        }
      }
      return 0;
    default:
      return 0;
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
