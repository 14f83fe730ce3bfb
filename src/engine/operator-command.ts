// The operator's commands as words (`switchover 4`, `prio set 4 120`, `maintenance on` ...):
// parsed in one place for the control socket, the CLI and the simulator's scenarios. Pure.
import type { OperatorCommand } from './types';

/** A parse failure: one line naming the value at fault. */
export class OperatorCommandError extends Error {}

function nodeIdOf(word: string | undefined, what: string): number {
  if (word === undefined) throw new OperatorCommandError(`${what}: missing NODEID`);
  if (!/^[0-9]+$/.test(word)) throw new OperatorCommandError(`${what}: expected a node id (an integer 1 or more), got '${word}'`);
  const n = Number(word);
  if (n < 1 || n > 0xffffffff) throw new OperatorCommandError(`${what}: node id ${word} is out of range (1-4294967295)`);
  return n;
}

function onOff(word: string | undefined, what: string): boolean {
  if (word === undefined) throw new OperatorCommandError(`${what}: missing on|off`);
  if (word !== 'on' && word !== 'off') throw new OperatorCommandError(`${what}: expected on or off, got '${word}'`);
  return word === 'on';
}

/** `words` as a command, or an OperatorCommandError naming the word at fault. */
export function parseOperatorCommand(words: readonly string[]): OperatorCommand {
  const [verb, ...rest] = words;
  const extra = (n: number): void => {
    if (rest.length > n) throw new OperatorCommandError(`${verb ?? ''}: unexpected '${rest.slice(n).join(' ')}'`);
  };
  switch (verb) {
    case 'switchover':
      extra(1);
      return { kind: 'switchover', target: nodeIdOf(rest[0], 'switchover') };
    case 'prio': {
      if (rest[0] !== 'set') throw new OperatorCommandError(`prio: expected 'set NODEID PRIO', got '${rest.join(' ')}'`);
      extra(3);
      const nodeId = nodeIdOf(rest[1], 'prio set');
      const p = rest[2];
      if (p === undefined) throw new OperatorCommandError(`prio set ${nodeId}: missing PRIO`);
      if (!/^[0-9]+$/.test(p) || !Number.isSafeInteger(Number(p))) throw new OperatorCommandError(`prio set ${nodeId}: expected an integer 0 or more, got '${p}'`);
      return { kind: 'prio', nodeId, prio: Number(p) };
    }
    case 'replication': {
      if (rest[0] !== 'set') throw new OperatorCommandError(`replication: expected 'set NODEID on|off', got '${rest.join(' ')}'`);
      extra(3);
      const nodeId = nodeIdOf(rest[1], 'replication set');
      return { kind: 'replication', nodeId, on: onOff(rest[2], `replication set ${nodeId}`) };
    }
    case 'standby': {
      extra(2);
      const nodeId = nodeIdOf(rest[0], 'standby');
      return { kind: 'standby', nodeId, on: onOff(rest[1], `standby ${nodeId}`) };
    }
    case 'maintenance': {
      const force = rest[1] === '--force';
      extra(force ? 2 : 1);
      const on = onOff(rest[0], 'maintenance');
      if (force && on) throw new OperatorCommandError("maintenance on: --force is for 'maintenance off' only");
      return force ? { kind: 'maintenance', on, force } : { kind: 'maintenance', on };
    }
    case 'node':
      return parseNode(rest);
    default:
      throw new OperatorCommandError(`unknown command '${verb ?? ''}' (switchover, prio set, replication set, standby, maintenance, node add, node remove)`);
  }
}

/** An IPv4 or IPv6 address as corosync's ring0_addr takes it (no names: they would need resolving everywhere). */
export function isAddress(text: string): boolean {
  const v4 = /^(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3}$/;
  return v4.test(text) || (/^[0-9a-fA-F:]{2,39}$/.test(text) && text.includes(':') && (text.match(/::/g) ?? []).length <= 1);
}

/** `node add NODEID ADDRESS [--prio P] [--replication on|off] [--name NAME]`, `node remove NODEID`. */
function parseNode(rest: readonly string[]): OperatorCommand {
  const [action, ...args] = rest;
  if (action === 'remove') {
    if (args.length > 1) throw new OperatorCommandError(`node remove: unexpected '${args.slice(1).join(' ')}'`);
    return { kind: 'nodeRemove', nodeId: nodeIdOf(args[0], 'node remove') };
  }
  if (action !== 'add') throw new OperatorCommandError(`node: expected 'add NODEID ADDRESS' or 'remove NODEID', got '${rest.join(' ')}'`);
  const nodeId = nodeIdOf(args[0], 'node add');
  const address = args[1];
  if (address === undefined) throw new OperatorCommandError(`node add ${nodeId}: missing ADDRESS`);
  if (!isAddress(address)) throw new OperatorCommandError(`node add ${nodeId}: expected an IPv4 or IPv6 address, got '${address}'`);
  const out: Extract<OperatorCommand, { kind: 'nodeAdd' }> = { kind: 'nodeAdd', nodeId, address };
  for (let i = 2; i < args.length; i += 2) {
    const [flag, value] = [args[i], args[i + 1]];
    if (flag === '--prio') {
      if (value === undefined || !/^[0-9]+$/.test(value) || !Number.isSafeInteger(Number(value)))
        throw new OperatorCommandError(`node add ${nodeId}: --prio expects an integer 0 or more, got '${value ?? ''}'`);
      out.prio = Number(value);
    } else if (flag === '--replication') {
      out.replication = onOff(value, `node add ${nodeId} --replication`);
    } else if (flag === '--name') {
      if (value === undefined || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(value))
        throw new OperatorCommandError(`node add ${nodeId}: --name expects a node name ([A-Za-z0-9._-], up to 63), got '${value ?? ''}'`);
      out.name = value;
    } else throw new OperatorCommandError(`node add ${nodeId}: unexpected '${flag ?? ''}'`);
  }
  return out;
}
