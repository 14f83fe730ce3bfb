// Command-line parsing for `corolistener`, on commander: it splits argv into commands, options
// and operands and reports unknown options (with a suggestion) and missing values by convention.
// Turns argv and the environment into one typed Command, or throws a UsageError (exit code 2)
// whose message is the one line printed to stderr. Help is ours (./help-text.ts, the documented
// text), so commander's own help and output are off; values are checked here.
import { resolve } from 'node:path';
import { Command as Program, CommanderError } from 'commander';
import { DEFAULT_SYNC_PORT } from '../cluster/config-sync';
import type { NodeSpec } from '../sandbox/spec';
import {
  COMMAND_NAMES,
  CONFIG_ACTIONS,
  DAEMON_OPTION_SPECS,
  DEFAULT_QUERY_TIMEOUT_MS,
  SANDBOX_ACTIONS,
  specOf,
  UsageError,
  type Command,
  type CommandName,
  type ConfigAction,
  type DaemonOptions,
  type SandboxAction,
} from './option-specs';
import { parseMetricsAddress } from '../daemon/metrics-address';
import { addOperate } from './operate-options';
import { NodesOptionError, parseNodesOption } from './sandbox-args';

export * from './option-specs';
export { helpText } from './help-text';

type Env = Record<string, string | undefined>;
type Values = Record<string, unknown>;

/** commander's name of an option's value: --corosync-conf -> corosyncConf. */
function camel(flag: string): string {
  return flag.replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** The closest of `candidates` to `word` (at most 2 edits away), for "did you mean". */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  const distance = (a: string, b: string): number => {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      const row = [i];
      for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row;
    }
    return prev[b.length]!;
  };
  const best = candidates.map((c) => ({ c, d: distance(word, c) })).sort((x, y) => x.d - y.d)[0];
  return best !== undefined && best.d <= Math.min(2, Math.floor(word.length / 2)) ? best.c : undefined;
}

function unknownWord(what: string, word: string, known: readonly string[], topic: CommandName | undefined): UsageError {
  const close = suggest(word, known);
  return new UsageError(`unknown ${what} ${JSON.stringify(word)}; ${close ? `did you mean "${close}"? ` : ''}one of: ${known.join(', ')}`, topic);
}

/** A commander command with our conventions: no help or output of its own, errors thrown. */
function quiet(cmd: Program, topic: CommandName | undefined): Program {
  const silent = { writeOut: () => undefined, writeErr: () => undefined, outputError: () => undefined };
  return cmd
    .helpOption(false)
    .helpCommand(false)
    .option('-h, --help')
    .configureOutput(silent)
    .showSuggestionAfterError(true)
    .exitOverride((err) => {
      // "error: unknown option '--lgo'\n(Did you mean --log?)" -> one line, our words.
      const text = err.message.replace(/^error: /, '').replace(/\n\(Did you mean (.*)\?\)$/, '; did you mean $1?');
      throw new UsageError(text.replace(/^option '(--[a-z-]+) <[A-Z]+>' argument missing$/, '$1 needs a value'), topic);
    });
}

function pathOptions(cmd: Program, ...keys: (keyof DaemonOptions)[]): Program {
  for (const k of keys) cmd.option(`--${specOf(k).flag} <PATH>`);
  return cmd;
}

/** A flag's value that is the next option (`--log --socket x`) is a missing value, not a path. */
function checkValue(flag: string, value: unknown, topic: CommandName | undefined): void {
  if (typeof value === 'string' && /^--?[a-z]/.test(value)) throw new UsageError(`--${flag} needs a value (got the option ${JSON.stringify(value)})`, topic);
}

function pathValue(key: keyof DaemonOptions, values: Values, env: Env, topic: CommandName): string {
  const spec = specOf(key);
  const flagValue = values[camel(spec.flag)];
  if (typeof flagValue === 'string') {
    if (flagValue === '') throw new UsageError(`--${spec.flag} must not be empty`, topic);
    checkValue(spec.flag, flagValue, topic);
    return resolve(flagValue);
  }
  const fromEnv = env[spec.env];
  // An empty variable counts as unset (`export VAR=` is a common way to clear one).
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.default);
}

/** An option's value as the text the user gave (commander hands strings; anything else is shown as JSON). */
function optionText(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

function timeoutValue(flagValue: unknown, topic: CommandName): number {
  if (flagValue === undefined) return DEFAULT_QUERY_TIMEOUT_MS;
  const text = optionText(flagValue);
  if (!/^[1-9][0-9]{0,6}$/.test(text)) {
    throw new UsageError(`--timeout must be a number of milliseconds (1..9999999), got ${JSON.stringify(text)}`, topic);
  }
  return Number(text);
}

/** `--metrics HOST:PORT`, else COROLISTENER_METRICS (empty: unset); none by default. */
function metricsValue(flag: unknown, env: Env): { host: string; port: number } | undefined {
  const text = flag !== undefined ? optionText(flag) : env.COROLISTENER_METRICS;
  if (text === undefined || text === '') return undefined;
  checkValue('metrics', text, 'run');
  try {
    return parseMetricsAddress(text);
  } catch (err) {
    throw new UsageError(`${flag !== undefined ? '--metrics' : 'COROLISTENER_METRICS'}: ${(err as Error).message}`, 'run');
  }
}

function noOperands(operands: readonly string[], topic: CommandName): void {
  if (operands.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(operands[0])}`, topic);
}

function listCommand(values: Values, operands: readonly string[], env: Env): Command {
  noOperands(operands, 'list');
  return {
    name: 'list',
    json: values.json === true,
    socket: pathValue('socket', values, env, 'list'),
    corosyncConf: pathValue('corosyncConf', values, env, 'list'),
    timeoutMs: timeoutValue(values.timeout, 'list'),
  };
}

function listOptions(cmd: Program): Program {
  return pathOptions(cmd.option('--json').option('--timeout <MS>'), 'socket', 'corosyncConf');
}

function sandboxUsage(message: string): UsageError {
  return new UsageError(message, 'sandbox');
}

function clusterValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (value === '') throw sandboxUsage('--cluster must not be empty');
  checkValue('cluster', value, 'sandbox');
  return optionText(value);
}

function sandboxCommand(action: SandboxAction, fields: Partial<Extract<Command, { name: 'sandbox' }>>): Command {
  return { name: 'sandbox', action, args: [], cluster: undefined, nodes: undefined, all: false, json: false, ...fields };
}

/** `sandbox ACTION ...`: each action a commander subcommand. */
function addSandbox(program: Program, done: (c: Command) => void): void {
  const sandbox = quiet(program.command('sandbox'), 'sandbox')
    .enablePositionalOptions()
    .argument('[action]')
    .action((action: string | undefined, values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'sandbox' });
      if (action === undefined) throw sandboxUsage(`sandbox needs an action: one of ${SANDBOX_ACTIONS.join(', ')}`);
      throw unknownWord('sandbox action', action, SANDBOX_ACTIONS, 'sandbox');
    });
  const sub = (name: SandboxAction) => quiet(sandbox.command(name), 'sandbox');
  sub('up')
    .option('--nodes <SPEC>')
    .option('--name <NAME>')
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'sandbox' });
      noOperands(operands, 'sandbox');
      let nodes: number | NodeSpec[] | undefined;
      if (values.nodes !== undefined) {
        try {
          nodes = parseNodesOption(optionText(values.nodes));
        } catch (err) {
          if (err instanceof NodesOptionError) throw sandboxUsage(err.message);
          throw err;
        }
      }
      done(sandboxCommand('up', { cluster: values.name === undefined ? undefined : clusterValue(values.name), nodes }));
    });
  for (const a of ['down', 'status'] as const) {
    const cmd = sub(a).option('--cluster <NAME>').argument('[operands...]');
    if (a === 'down') cmd.option('--all');
    else cmd.option('--json');
    cmd.action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'sandbox' });
      // The cluster may be given as `NAME` or `--cluster NAME`.
      let cluster = clusterValue(values.cluster);
      if (operands.length > 1) throw sandboxUsage(`unexpected argument ${JSON.stringify(operands[1])}`);
      if (operands[0] !== undefined) {
        if (cluster !== undefined) throw sandboxUsage('give the cluster once: NAME or --cluster NAME');
        cluster = operands[0];
      }
      if (values.all === true && cluster !== undefined) throw sandboxUsage('--all and a cluster name exclude each other');
      done(sandboxCommand(a, { cluster, all: values.all === true, json: values.json === true }));
    });
  }
  for (const a of ['cut', 'heal', 'kill', 'start'] as const) {
    sub(a)
      .option('--cluster <NAME>')
      .argument('[operands...]')
      .action((operands: string[], values: Values) => {
        if (values.help === true) return done({ name: 'help', topic: 'sandbox' });
        if (operands.length !== 1) throw sandboxUsage(`usage: corolistener sandbox ${a} NODE [--cluster NAME]`);
        done(sandboxCommand(a, { args: operands, cluster: clusterValue(values.cluster) }));
      });
  }
  // exec: options only before NODE; everything after it is the command's own argv, untouched.
  sub('exec')
    .option('--cluster <NAME>')
    .passThroughOptions()
    .argument('[node]')
    .argument('[command...]')
    .action((node: string | undefined, command: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'sandbox' });
      const argv = command[0] === '--' ? command.slice(1) : command;
      if (node === undefined || node.startsWith('-') || argv.length === 0) {
        throw sandboxUsage('usage: corolistener sandbox exec [--cluster NAME] NODE [--] COMMAND [ARGS...]');
      }
      done(sandboxCommand('exec', { args: [node, ...argv], cluster: clusterValue(values.cluster) }));
    });
}

function addConfig(program: Program, env: Env, done: (c: Command) => void): void {
  const config = quiet(program.command('config'), 'config')
    .argument('[action]')
    .action((action: string | undefined, values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'config' });
      if (action === undefined) throw new UsageError(`config needs an action: one of ${CONFIG_ACTIONS.join(', ')}`, 'config');
      throw unknownWord('config action', action, CONFIG_ACTIONS, 'config');
    });
  for (const action of CONFIG_ACTIONS) {
    const cmd = quiet(config.command(action), 'config').option('--json').option('--timeout <MS>').option('--port <PORT>').option('--from <HOST>').argument('[operands...]');
    pathOptions(cmd, 'corosyncConf', 'vmmgrConf', 'socket', 'keyFile').action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'config' });
      noOperands(operands, 'config');
      const port = values.port === undefined ? String(DEFAULT_SYNC_PORT) : optionText(values.port);
      if (!/^[1-9][0-9]{0,4}$/.test(port) || Number(port) > 65535) {
        throw new UsageError(`--port must be a TCP port (1..65535), got ${JSON.stringify(port)}`, 'config');
      }
      done({
        name: 'config',
        action: action as ConfigAction,
        json: values.json === true,
        corosyncConf: pathValue('corosyncConf', values, env, 'config'),
        vmmgrConf: pathValue('vmmgrConf', values, env, 'config'),
        socket: pathValue('socket', values, env, 'config'),
        keyFile: pathValue('keyFile', values, env, 'config'),
        port: Number(port),
        timeoutMs: timeoutValue(values.timeout, 'config'),
        ...fromValue(values.from, action),
      });
    });
  }
}

/** `config sync --from HOST`: a host name or address (no blanks, no option). */
function fromValue(value: unknown, action: string): { from?: string } {
  if (value === undefined) return {};
  const host = optionText(value);
  checkValue('from', host, 'config');
  if (action !== 'sync') throw new UsageError('--from is an option of config sync', 'config');
  if (!/^[A-Za-z0-9.:_-]{1,253}$/.test(host)) throw new UsageError(`--from must be a host name or address, got ${JSON.stringify(host)}`, 'config');
  return { from: host };
}

function buildProgram(env: Env, done: (c: Command) => void): Program {
  const program = quiet(new Program('corolistener'), undefined).enablePositionalOptions().option('-V, --version').option('-l, --list');
  // `corolistener -l [--json] [--socket PATH] ...`: the list options, in any order around -l.
  listOptions(program)
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.version === true) return done({ name: 'version' });
      if (values.list === true) return done(values.help === true ? { name: 'help', topic: 'list' } : listCommand(values, operands, env));
      if (values.help === true) return done({ name: 'help', topic: undefined });
      const stray = ['json', 'timeout', 'socket', 'corosyncConf'].find((k) => values[k] !== undefined);
      if (stray !== undefined)
        throw new UsageError(`--${stray === 'corosyncConf' ? 'corosync-conf' : stray} is an option of -l (corolistener -l --${stray === 'corosyncConf' ? 'corosync-conf' : stray} ...)`);
      if (operands[0] === undefined) return done({ name: 'help', topic: undefined });
      throw unknownWord('command', operands[0], [...COMMAND_NAMES, 'help'], undefined);
    });
  quiet(program.command('help'), undefined)
    .option('-l, --list')
    .argument('[topic]')
    .argument('[operands...]')
    .action((topic: string | undefined, _operands: string[], values: Values) => {
      const t = values.list === true ? 'list' : topic;
      if (t === undefined) return done({ name: 'help', topic: undefined });
      if (!(COMMAND_NAMES as readonly string[]).includes(t)) throw unknownWord('help topic', t, COMMAND_NAMES, undefined);
      done({ name: 'help', topic: t as CommandName });
    });
  pathOptions(quiet(program.command('run'), 'run').option('--metrics <HOST:PORT>'), ...DAEMON_OPTION_SPECS.map((s) => s.key))
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'run' });
      const options = Object.fromEntries(DAEMON_OPTION_SPECS.map((s) => [s.key, pathValue(s.key, values, env, 'run')])) as unknown as DaemonOptions;
      noOperands(operands, 'run');
      const metrics = metricsValue(values.metrics, env);
      done(metrics === undefined ? { name: 'run', options } : { name: 'run', options, metrics });
    });
  listOptions(quiet(program.command('list'), 'list'))
    .argument('[operands...]')
    .action((operands: string[], values: Values) => done(values.help === true ? { name: 'help', topic: 'list' } : listCommand(values, operands, env)));
  pathOptions(quiet(program.command('status'), 'status').option('--json').option('--timeout <MS>'), 'socket')
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'status' });
      noOperands(operands, 'status');
      done({ name: 'status', json: values.json === true, socket: pathValue('socket', values, env, 'status'), timeoutMs: timeoutValue(values.timeout, 'status') });
    });
  addConfig(program, env, done);
  addSandbox(program, done);
  addOperate(program, env, done, quiet);
  quiet(program.command('demo'), 'demo')
    .argument('[operands...]')
    .action((operands: string[], values: Values) => {
      if (values.help === true) return done({ name: 'help', topic: 'demo' });
      noOperands(operands, 'demo');
      done({ name: 'demo' });
    });
  return program;
}

/** Parses `corolistener ARGV...` (argv without node and script). Throws UsageError. */
export function parseCommandLine(argv: readonly string[], env: Env): Command {
  let result: Command | undefined;
  const program = buildProgram(env, (c) => {
    result = c;
  });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) throw new UsageError(err.message.replace(/^error: /, ''));
    throw err;
  }
  if (result === undefined) throw new Error(`corolistener: no command parsed from ${JSON.stringify(argv)}`);
  return result;
}
