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
    default:
      throw new OperatorCommandError(`unknown command '${verb ?? ''}' (switchover, prio set, replication set, standby, maintenance)`);
  }
}
