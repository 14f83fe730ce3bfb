// `corolistener sandbox ACTION`: a front end over src/sandbox. Clusters made by `up` are
// persistent (they outlive this process); every other action re-attaches by name.
import { constants as osConstants } from 'node:os';
import { cleanupStale, createCluster, listClusters, openCluster, SandboxSpecError, type ClusterSummary, type NodeRef, type NodeStatus, type SandboxCluster } from '../../sandbox';
// Internal to the sandbox: the synchronous teardown, usable from a signal handler.
import { teardownSync } from '../../sandbox/teardown';
import { CliError, type CliIo } from '../io';
import { EXIT } from '../options';
import { chooseCluster } from '../sandbox-args';
import { formatTextTable } from '../text-table';
import type { CommandOf } from './types';

type SandboxCommand = CommandOf<'sandbox'>;

function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new CliError('corolistener sandbox needs root (it creates network namespaces and mounts)', EXIT.FAILURE);
  }
}

/** A node argument: digits are a nodeid, anything else a name. */
function nodeRef(text: string): NodeRef {
  return /^[0-9]+$/.test(text) ? Number(text) : text;
}

function open(name: string): SandboxCluster {
  try {
    return openCluster(name);
  } catch (err) {
    const names = listClusters().map((c) => c.name);
    const known = names.length === 0 ? 'none exist' : `existing: ${names.join(', ')}`;
    const message = (err as Error).message.replace(/ \(see listClusters\(\)\)$/, '');
    // Naming a cluster that does not exist is a wrong command line, like naming a node that
    // does not exist (checkedNode): exit 2. Anything else went wrong while opening it: exit 1.
    throw new CliError(`${message} (${known})`, /^no sandbox cluster named /.test(message) ? EXIT.USAGE : EXIT.FAILURE);
  }
}

/** The cluster named on the command line, else the only one made by `up`. */
function selectCluster(command: SandboxCommand, howToName: string): SandboxCluster {
  const choice = chooseCluster(listClusters(), command.cluster, howToName);
  if (!choice.ok) throw new CliError(choice.message, choice.kind === 'usage' ? EXIT.USAGE : EXIT.FAILURE);
  return open(choice.name);
}

/** Resolve NODE against the cluster first, so a typo is a usage error listing the nodes. */
function checkedNode(cluster: SandboxCluster, text: string): string {
  try {
    return cluster.node(nodeRef(text)).name;
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.USAGE);
  }
}

function nodesTable(cluster: SandboxCluster): string {
  return formatTextTable(
    ['NODE', 'NODEID', 'PRIO', 'REPLICATION', 'NETNS', 'IP', 'COROSYNC PID'],
    cluster.nodes.map((n) => [n.name, String(n.nodeId), String(n.prio), n.replication ? 'on' : 'off', n.netns, n.address, String(cluster.corosyncPid(n.name) ?? 'stopped')]),
  );
}

/**
 * While `up` runs, Ctrl-C (or SIGTERM/SIGHUP) removes the cluster being made: it is persistent,
 * so no exit handler of the sandbox would, and a half-started one would be left running.
 * `demo` uses it for its whole run: the message says what was removed, the exit code is 128+N.
 */
export function removeOnInterrupt(io: CliIo): () => void {
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const onSignal = (sig: NodeJS.Signals) => {
    const mine = listClusters().filter((c) => c.ownerPid === process.pid);
    for (const c of mine) teardownSync(c.dir);
    io.stderr.write(`corolistener: interrupted (${sig}); ${mine.length > 0 ? `removed ${mine.map((c) => c.name).join(', ')}` : 'nothing was created'}\n`);
    process.exit(128 + (osConstants.signals[sig] ?? 0));
  };
  for (const sig of signals) process.on(sig, onSignal);
  return () => {
    for (const sig of signals) process.off(sig, onSignal);
  };
}

async function up(command: SandboxCommand, io: CliIo): Promise<number> {
  let cluster: SandboxCluster;
  const uninstall = removeOnInterrupt(io);
  try {
    cluster = await createCluster({ nodes: command.nodes ?? 3, name: command.cluster, persistent: true });
  } catch (err) {
    if (err instanceof SandboxSpecError) throw new CliError(err.message, EXIT.USAGE);
    throw err;
  } finally {
    uninstall();
  }
  // The name alone on the first line, for scripts: NAME=$(corolistener sandbox up | head -1).
  io.stdout.write(`${cluster.name}\n`);
  io.stdout.write(nodesTable(cluster));
  io.stdout.write(`all ${cluster.nodes.length} nodes quorate; remove with: corolistener sandbox down ${cluster.name}\n`);
  return EXIT.OK;
}

function clusterList(clusters: readonly ClusterSummary[]): string {
  if (clusters.length === 0) return 'no sandbox clusters\n';
  return formatTextTable(
    ['NAME', 'ID', 'NODES', 'KIND', 'STATE', 'CREATED'],
    clusters.map((c) => [
      c.name,
      c.id,
      c.nodes.map((n) => n.name).join(','),
      // A temporary cluster belongs to a running test (or is a leftover of a dead one).
      c.persistent ? 'persistent' : `temporary (owner pid ${c.ownerPid}${c.ownerAlive ? '' : ', dead'})`,
      c.complete ? 'complete' : 'incomplete',
      c.createdAt,
    ]),
  );
}

function nodeStatusTable(nodes: readonly NodeStatus[]): string {
  return formatTextTable(
    ['NODE', 'NODEID', 'IP', 'COROSYNC', 'CUT', 'QUORATE', 'MEMBERS'],
    nodes.map((n) => [
      n.name,
      String(n.nodeId),
      n.address,
      n.pid === null ? 'stopped' : `running (pid ${n.pid})`,
      n.cut ? 'yes' : 'no',
      n.quorum === null ? '-' : n.quorum.quorate ? 'yes' : 'no',
      n.quorum === null ? '-' : n.quorum.members.join(','),
    ]),
  );
}

async function status(command: SandboxCommand, io: CliIo): Promise<number> {
  if (command.cluster === undefined) {
    const clusters = listClusters();
    io.stdout.write(command.json ? `${JSON.stringify({ clusters })}\n` : clusterList(clusters));
    return EXIT.OK;
  }
  const cluster = open(command.cluster);
  const nodes = await cluster.status();
  if (command.json) {
    io.stdout.write(`${JSON.stringify({ cluster: { name: cluster.name, id: cluster.id }, nodes })}\n`);
    return EXIT.OK;
  }
  const quorate = nodes.filter((n) => n.quorum?.quorate === true).length;
  io.stdout.write(`cluster ${cluster.name} (id ${cluster.id}): ${quorate} of ${nodes.length} nodes quorate\n`);
  io.stdout.write(nodeStatusTable(nodes));
  return EXIT.OK;
}

async function down(command: SandboxCommand, io: CliIo): Promise<number> {
  if (!command.all) {
    const cluster = selectCluster(command, 'NAME or --all');
    await cluster.destroy();
    io.stdout.write(`removed ${cluster.name}\n`);
    return EXIT.OK;
  }
  // Temporary clusters of running tests are theirs to remove; dead owners' leftovers are ours.
  const made = listClusters().filter((c) => c.persistent);
  for (const c of made) {
    await open(c.id).destroy();
    io.stdout.write(`removed ${c.name}\n`);
  }
  for (const dir of cleanupStale()) io.stdout.write(`removed leftover ${dir}\n`);
  if (made.length === 0) io.stdout.write('no sandbox clusters made by "up"\n');
  return EXIT.OK;
}

async function nodeAction(command: SandboxCommand, io: CliIo): Promise<number> {
  const cluster = selectCluster(command, '--cluster NAME');
  const node = checkedNode(cluster, command.args[0]!);
  switch (command.action) {
    case 'cut':
      await cluster.cut(node);
      io.stdout.write(`${node}: cut off from the other nodes\n`);
      break;
    case 'heal':
      await cluster.heal(node);
      io.stdout.write(`${node}: reconnected\n`);
      break;
    case 'kill': {
      const pid = cluster.corosyncPid(node);
      if (pid === null) throw new CliError(`${node}: corosync is not running`, EXIT.FAILURE);
      await cluster.kill(node);
      io.stdout.write(`${node}: corosync (pid ${pid}) killed\n`);
      break;
    }
    case 'start': {
      if (cluster.isRunning(node)) throw new CliError(`${node}: corosync is already running (pid ${cluster.corosyncPid(node)})`, EXIT.FAILURE);
      const pid = await cluster.start(node);
      io.stdout.write(`${node}: corosync started (pid ${pid})\n`);
      break;
    }
    default:
      throw new Error(`not a node action: ${command.action}`);
  }
  return EXIT.OK;
}

/** Exit code of a finished child the way a shell reports it. */
function exitCodeOf(code: number | null, sig: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (sig === null ? 0 : (osConstants.signals[sig] ?? 0));
}

async function exec(command: SandboxCommand): Promise<number> {
  const cluster = selectCluster(command, '--cluster NAME');
  const [nodeText, ...argv] = command.args;
  const node = checkedNode(cluster, nodeText!);
  // Built by the sandbox (nsenter into the node's network and mount namespaces) but spawned
  // here with inherited stdio, so an interactive command gets this terminal.
  const child = cluster.spawn(node, argv, { stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal; we only must not die before it. A SIGTERM or
  // SIGHUP sent to us alone is passed on.
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers: Array<[NodeJS.Signals, () => void]> = [
    ['SIGINT', () => {}],
    ['SIGTERM', forward('SIGTERM')],
    ['SIGHUP', forward('SIGHUP')],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (err) => reject(new CliError(`cannot run nsenter: ${err.message}`, EXIT.FAILURE)));
      child.on('exit', (code, sig) => resolve(exitCodeOf(code, sig)));
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

export async function run(command: SandboxCommand, io: CliIo): Promise<number> {
  // Listing reads files; everything else enters namespaces or creates them.
  if (!(command.action === 'status' && command.cluster === undefined)) requireRoot();
  try {
    switch (command.action) {
      case 'up':
        return await up(command, io);
      case 'status':
        return await status(command, io);
      case 'down':
        return await down(command, io);
      case 'exec':
        return await exec(command);
      default:
        return await nodeAction(command, io);
    }
  } catch (err) {
    if (err instanceof CliError) throw err;
    // Sandbox errors carry the end of corosync's log after their first line: the first line
    // is the error, the rest is printed indented below it as detail.
    const [first, ...detail] = (err instanceof Error ? err.message : String(err)).split('\n');
    io.stderr.write(`corolistener: ${first}\n${detail.map((l) => `  ${l}\n`).join('')}`);
    return EXIT.FAILURE;
  }
}
