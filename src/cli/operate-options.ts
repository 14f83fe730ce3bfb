// The command line of operating the cluster (issue 18): `switchover NODEID`, `prio set NODEID
// PRIO`, `replication set NODEID on|off`, `standby NODEID on|off`, `maintenance on|off
// [--force]` (to the daemon's control socket) and `history [--json] [--since TIME]` (the
// state dir's history file). The words are checked here with the daemon's own parser, so a
// wrong value is a usage error (exit 2) naming it before anything is sent.
import { resolve } from 'node:path';
import type { Command as Program } from 'commander';
import { OperatorCommandError, parseOperatorCommand } from '../engine/operator-command';
import { DEFAULT_OPERATE_TIMEOUT_MS, OPERATE_NAMES, specOf, UsageError, type Command, type CommandName, type OperateName } from './option-specs';

type Env = Record<string, string | undefined>;
type Values = Record<string, unknown>;

const USAGE: Record<OperateName, string> = {
  switchover: 'corolistener switchover NODEID',
  prio: 'corolistener prio set NODEID PRIO',
  replication: 'corolistener replication set NODEID on|off',
  standby: 'corolistener standby NODEID on|off',
  maintenance: 'corolistener maintenance on|off [--force]',
  node: 'corolistener node add NODEID ADDRESS [--prio P] [--replication on|off] [--name NAME] | node remove NODEID',
};

function text(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function pathOf(key: 'socket' | 'stateDir', values: Values, env: Env): string {
  const spec = specOf(key);
  const flag = values[key];
  if (typeof flag === 'string') {
    if (flag === '' || /^--?[a-z]/.test(flag)) throw new UsageError(`--${spec.flag} needs a value`, undefined);
    return resolve(flag);
  }
  const fromEnv = env[spec.env];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default);
}

function timeoutOf(value: unknown, topic: CommandName): number {
  if (value === undefined) return DEFAULT_OPERATE_TIMEOUT_MS;
  const t = text(value);
  if (!/^[1-9][0-9]{0,6}$/.test(t)) throw new UsageError(`--timeout must be a number of milliseconds (1..9999999), got ${JSON.stringify(t)}`, topic);
  return Number(t);
}

/**
 * `--since`: an ISO 8601 time (2026-12-05T03:12:00Z, 2026-12-05) or a duration back from `now`
 * (90s, 30m, 2h, 7d). Returns ms since the epoch.
 */
export function parseSince(value: string, now: number): number {
  const rel = /^([0-9]{1,9})([smhd])$/.exec(value);
  if (rel) return now - Number(rel[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const t = /^[0-9]{4}-[0-9]{2}-[0-9]{2}/.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(t)) throw new UsageError(`--since must be an ISO 8601 time (2026-12-05T03:12:00Z) or a duration back from now (90s, 30m, 2h, 7d), got ${JSON.stringify(value)}`, 'history');
  return t;
}

/** Adds the operator commands and `history` to the program. */
export function addOperate(program: Program, env: Env, done: (c: Command) => void, quiet: (cmd: Program, topic: CommandName) => Program): void {
  for (const name of OPERATE_NAMES) {
    const cmd = quiet(program.command(name), name).option('--json').option('--timeout <MS>').option('--socket <PATH>').argument('[words...]');
    if (name === 'maintenance') cmd.option('--force');
    if (name === 'node') cmd.option('--prio <P>').option('--replication <ON_OFF>').option('--name <NAME>');
    cmd.action((words: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: name });
      const flags = [
        ...(values.force === true ? ['--force'] : []),
        ...(values.prio === undefined ? [] : ['--prio', text(values.prio)]),
        ...(values.replication === undefined ? [] : ['--replication', text(values.replication)]),
        ...(values.name === undefined ? [] : ['--name', text(values.name)]),
      ];
      const all = [name, ...words, ...flags];
      try {
        parseOperatorCommand(all);
      } catch (err) {
        if (err instanceof OperatorCommandError) throw new UsageError(`${err.message}; usage: ${USAGE[name]}`, name);
        throw err;
      }
      done({ name, words: all, socket: pathOf('socket', values, env), timeoutMs: timeoutOf(values.timeout, name), json: values.json === true });
    });
  }
  quiet(program.command('history'), 'history')
    .option('--json')
    .option('--since <TIME>')
    .option('--state-dir <PATH>')
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'history' });
      if (operands.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(operands[0])}`, 'history');
      const since = values.since === undefined ? undefined : parseSince(text(values.since), Date.now());
      done({ name: 'history', json: values.json === true, since, stateDir: pathOf('stateDir', values, env) });
    });
}
