// `corolistener config sync|show|check` (check: ./config-check.ts).
//
// sync runs before corosync starts (systemd/corosync.service.d/corolistener-sync.conf): it
// fetches the newest corosync.conf from a live peer (src/cluster/sync-from-peers.ts). Having no
// peer is normal for the first node up, so that is exit 0 with a warning; a bad key file, an
// unreadable own file or a refused install is exit 1 (the drop-in's `-` still lets corosync start).
import { ConfigValidationError, readCorosyncConf, readVmmgrConf } from '../../config';
import { ClusterKey } from '../../cluster/cluster-key';
import { syncFromPeers } from '../../cluster/sync-from-peers';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import { check } from './config-check';
import type { CommandOf } from './types';

export async function run(command: CommandOf<'config'>, io: CliIo): Promise<number> {
  if (command.action === 'check') return check(command, io);
  return command.action === 'sync' ? sync(command, io) : show(command, io);
}

async function sync(command: CommandOf<'config'>, io: CliIo): Promise<number> {
  const key = await ClusterKey.fromFile(command.keyFile).catch((err: Error) => {
    throw new CliError(`${err.message} (give the cluster's key file with --key FILE)`, EXIT.FAILURE);
  });
  let outcome;
  try {
    outcome = await syncFromPeers({ confPath: command.corosyncConf, key, port: command.port, timeoutMs: command.timeoutMs, ...(command.from === undefined ? {} : { from: command.from }) });
  } catch (err) {
    throw new CliError(`config sync: ${(err as Error).message}`, EXIT.FAILURE);
  }
  if (command.json) {
    io.stdout.write(JSON.stringify(outcome, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) + '\n');
  }
  const failures = outcome.peers.filter((p) => p.error !== undefined).map((p) => `${p.peer}: ${p.error}`);
  switch (outcome.status) {
    case 'installed':
      if (!command.json) {
        const was = outcome.created ? 'there was none' : `was ${outcome.previous}; previous file kept as .bak`;
        io.stdout.write(`config sync: installed config_version ${outcome.version} from ${outcome.from} (${was})\n`);
      }
      break;
    case 'up-to-date':
      if (!command.json) io.stdout.write(`config sync: ${command.corosyncConf} is up to date (config_version ${outcome.version})\n`);
      break;
    case 'no-peer':
      // Asked for one host by name (a new node's bootstrap): its silence is a failure.
      if (command.from !== undefined) throw new CliError(`config sync: ${command.from} did not answer: ${outcome.peers[0]?.error ?? 'no answer'}`, EXIT.FAILURE);
      io.stderr.write(`corolistener: warning: config sync: no peer answered; ${command.corosyncConf} left as it is (config_version ${outcome.version})\n` + failures.map((f) => `  ${f}\n`).join(''));
      break;
  }
  return EXIT.OK;
}

async function show(command: CommandOf<'config'>, io: CliIo): Promise<number> {
  try {
    const { view, warnings } = await readCorosyncConf(command.corosyncConf);
    const vmmgr = await readVmmgrConf(command.vmmgrConf).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    const allWarnings = [...warnings, ...(vmmgr?.warnings ?? [])];
    if (command.json) {
      const vmmgrJson = vmmgr === undefined ? null : { ...vmmgr, warnings: undefined };
      io.stdout.write(JSON.stringify({ corosync: view, vmmgr: vmmgrJson, warnings: allWarnings.map((w) => w.message) }, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n');
      return EXIT.OK;
    }
    const lines = [
      `${command.corosyncConf}: cluster ${view.clusterName ?? '(unnamed)'}, config_version ${view.configVersion ?? 0}`,
      // A node without a replication key replicates (docs/config.md): shown as on.
      ...view.nodes.map((n) => `  node ${n.nodeid}  ${n.ringAddrs[0] ?? '-'}  prio ${n.prio ?? '-'}  replication ${n.replication === false ? 'off' : 'on'}`),
      vmmgr === undefined
        ? `${command.vmmgrConf}: not present`
        : `${command.vmmgrConf}: CloudIp ${vmmgr.cloudIp === undefined ? '-' : `${vmmgr.cloudIp}/${vmmgr.cloudMask}`} on ${vmmgr.cloudIpDev ?? '-'}`,
      ...allWarnings.map((w) => `  warning: ${w.message}`),
    ];
    io.stdout.write(lines.join('\n') + '\n');
    return EXIT.OK;
  } catch (err) {
    if (err instanceof ConfigValidationError) throw new CliError(err.message, EXIT.FAILURE);
    throw err;
  }
}
