// A stand-in for VMmanager on sandbox nodes. Each node's vmmgr.conf names the cluster IP and,
// for every command corolistener runs (ServiceStartCommand, ...), the recorder
// (./record-command: `node record-command.js CALLS_FILE NAME`), which appends one JSON line per
// call to the node's calls file: which command, when, and the COROLISTENER_* environment it
// got. Tests assert on those lines exactly which commands ran where, how often and with which
// context; the demo narrates them.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The vmmgr.conf directives naming commands corolistener runs. */
export const VMMGR_COMMANDS = ['ServiceStartCommand', 'ServiceStopCommand', 'VmSuspendCommand', 'VmResumeCommand', 'NodeFailedCommand'] as const;
export type VmmgrCommandName = (typeof VMMGR_COMMANDS)[number];

/** One recorded call. */
export interface VmmgrCall {
  name: VmmgrCommandName;
  /** Wall-clock time of the call, ISO 8601, and the same in ms since the epoch. */
  at: string;
  ms: number;
  pid: number;
  /** Arguments after NAME (none as configured here). */
  args: string[];
  /** The COROLISTENER_* variables the command saw (ROLE, NODEID, CLUSTER_IP, IHTTPD_PORT, FAILED_NODES...). */
  env: Record<string, string>;
}

export interface FakeVmmgrOptions {
  /** Where the recorder appends, as the node (the listener's commands) sees the path. */
  callsFile: string;
  /** Default 198.18.0.100. */
  cloudIp?: string;
  /** Prefix length. Default 24. */
  cloudMask?: number;
  /** Default vmbr0. */
  cloudIpDev?: string;
  /** Node binary the commands run with. Default this process's. */
  nodeBin?: string;
  /** The recorder script. Default the built one (dist/sandbox/record-command.js). */
  recorder?: string;
}

export const DEFAULT_CLOUD_IP = '198.18.0.100';

/** The VMs the fake VMmanager runs on a node (VmSuspendCommand reports them as suspended). */
export function fakeVmNames(nodeId: number | string): string[] {
  return [`vm${nodeId}a`, `vm${nodeId}b`];
}

/** dist/sandbox/record-command.js of this package, whether running from src/ (tests) or dist/. */
export function recorderScript(): string {
  return path.resolve(__dirname, '..', '..', 'dist', 'sandbox', 'record-command.js');
}

/** The vmmgr.conf text of a sandbox node. */
export function renderFakeVmmgrConf(o: FakeVmmgrOptions): string {
  const argvHead = [o.nodeBin ?? process.execPath, o.recorder ?? recorderScript(), o.callsFile];
  // vmmgr.conf splits commands on blanks, with no quoting: a path with a blank cannot be said.
  const blank = argvHead.find((a) => /\s/.test(a));
  if (blank !== undefined) throw new Error(`fake VMmanager: path ${JSON.stringify(blank)} contains a blank; vmmgr.conf commands cannot hold it`);
  return [
    '# Sandbox node: every command is recorded by the fake VMmanager (corolistener src/sandbox/fake-vmmgr.ts)',
    `CloudIp ${o.cloudIp ?? DEFAULT_CLOUD_IP}`,
    `CloudMask ${o.cloudMask ?? 24}`,
    `CloudIpDev ${o.cloudIpDev ?? 'vmbr0'}`,
    ...VMMGR_COMMANDS.map((name) => `${name} ${[...argvHead, name].join(' ')}`),
    '',
  ].join('\n');
}

/** The line the recorder appends for a call. */
export function callRecord(name: VmmgrCommandName, args: readonly string[], env: NodeJS.ProcessEnv, now = new Date(), pid = process.pid): VmmgrCall {
  const ctx = Object.fromEntries(
    Object.entries(env)
      .filter((e): e is [string, string] => e[0].startsWith('COROLISTENER_') && e[1] !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return { name, at: now.toISOString(), ms: now.getTime(), pid, args: [...args], env: ctx };
}

export function isVmmgrCommandName(s: string): s is VmmgrCommandName {
  return (VMMGR_COMMANDS as readonly string[]).includes(s);
}

/** Append one call to `file`: a single write of one line, so concurrent calls never interleave. */
export function appendCall(file: string, call: VmmgrCall): void {
  fs.appendFileSync(file, `${JSON.stringify(call)}\n`);
}

/** Every call recorded in `file` (a host path), oldest first; [] when there is none yet. */
export function readCalls(file: string): VmmgrCall[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l, i) => {
      try {
        return JSON.parse(l) as VmmgrCall;
      } catch {
        throw new Error(`${file}:${i + 1}: not a recorded call: ${l.slice(0, 200)}`);
      }
    });
}
