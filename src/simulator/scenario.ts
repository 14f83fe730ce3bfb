// Text scenarios for the simulator, in the spirit of pve-ha-manager's cmdlist + log.expect, but
// in one file: a header describing the cluster, then commands (`> cut n2`), each followed by the
// expected log lines (indented) that the command produces, in order.
//
//   # what this scenario shows
//   node 2 prio=99 vms=a,b         one line per configured node (replication=off, noprio)
//   takeover-delay 5000            optional; expected-votes N optional (default: node count)
//   late-results                   optional: suspend results arrive after the next command's events
//   watchdog 10000 4000            optional: self-fencing, watchdog timeout and announced margin (ms)
//   two-node                       optional: corosync two_node without a qdevice (one node of two is quorate)
//   > start n2 n4 n8
//     n4 master
//     n4 removeRelocatedLock
//
// Commands: start, crash (alias kill: power loss), cut, split (groups separated by |), heal, kill-corosync,
// start-corosync, restart-listener, carrier-down, carrier-up (the cluster IP's device), set-prio NODE PRIO [on NODES], set-replication NODE on|off
// [on NODES], wait MS, cut-on-raise [NODE] (arms a fault: the next priority raise of NODE, or of
// any node, cuts it off right after its own write, before its file reaches anyone), freeze, thaw,
// hang-suspend (self-fencing faults, fencing-sim.ts), operate NODE COMMAND (an operator's command
// to NODE's listener: switchover N, prio set N P, replication set N on|off, standby N on|off,
// maintenance on|off). A line `! ...` in the log is an invariant violation (see invariants.ts).
import { parseOperatorCommand } from '../engine/operator-command';
import type { OperatorCommand } from '../engine/types';
import { FencingSimulator } from './fencing-sim';
import { checkInvariants } from './invariants';
import { Simulator, type SimNodeSpec, type SimOptions } from './simulator';

export interface ScenarioStep {
  /** 1-based line of the command in the file. */
  line: number;
  command: string;
  expected: string[];
}

export interface Scenario {
  file: string;
  /** Header lines (comments and cluster description) kept verbatim for rewriting. */
  header: string[];
  options: SimOptions;
  steps: ScenarioStep[];
}

export interface StepResult extends ScenarioStep {
  actual: string[];
}

export class ScenarioError extends Error {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`);
    this.name = 'ScenarioError';
  }
}

function parseNodeRef(file: string, line: number, token: string): number {
  const m = /^n?(\d+)$/.exec(token);
  if (m === null) throw new ScenarioError(file, line, `expected a node (n2 or 2), got '${token}'`);
  return Number(m[1]);
}

function parseInteger(file: string, line: number, field: string, token: string | undefined): number {
  if (token === undefined || !/^\d+$/.test(token)) throw new ScenarioError(file, line, `${field}: expected a non-negative integer, got '${token ?? ''}'`);
  return Number(token);
}

function parseNodeLine(file: string, line: number, words: string[]): SimNodeSpec {
  const spec: SimNodeSpec = { nodeId: parseNodeRef(file, line, words[1] ?? ''), prio: undefined, replication: true, vms: [] };
  for (const word of words.slice(2)) {
    const [key, value] = word.split('=', 2);
    if (key === 'prio') spec.prio = parseInteger(file, line, 'prio', value);
    else if (key === 'replication' && (value === 'on' || value === 'off')) spec.replication = value === 'on';
    else if (key === 'vms' && value !== undefined && value !== '') spec.vms = value.split(',');
    else if (key === 'noprio' && value === undefined) spec.prio = undefined;
    else throw new ScenarioError(file, line, `node: unknown or invalid field '${word}'`);
  }
  return spec;
}

export function parseScenario(file: string, text: string): Scenario {
  const header: string[] = [];
  const nodes: SimNodeSpec[] = [];
  const options: SimOptions = { nodes };
  const steps: ScenarioStep[] = [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((raw, i) => {
    const line = i + 1;
    if (raw.startsWith('>')) {
      steps.push({ line, command: raw.slice(1).trim(), expected: [] });
      return;
    }
    if (steps.length > 0) {
      if (raw.trim() === '') return;
      if (!raw.startsWith('  ')) throw new ScenarioError(file, line, 'expected log lines are indented by two spaces');
      steps[steps.length - 1].expected.push(raw.trim());
      return;
    }
    header.push(raw);
    const words = raw.trim().split(/\s+/);
    if (raw.trim() === '' || raw.trim().startsWith('#')) return;
    if (words[0] === 'node') {
      const spec = parseNodeLine(file, line, words);
      if (nodes.some((n) => n.nodeId === spec.nodeId)) throw new ScenarioError(file, line, `node ${spec.nodeId} defined twice`);
      nodes.push(spec);
    } else if (words[0] === 'takeover-delay') options.takeoverDelayMs = parseInteger(file, line, 'takeover-delay', words[1]);
    else if (words[0] === 'expected-votes') options.expectedVotes = parseInteger(file, line, 'expected-votes', words[1]);
    else if (words[0] === 'late-results' && words.length === 1) options.lateResults = true;
    else if (words[0] === 'watchdog' && words.length === 3)
      options.watchdog = { timeoutMs: parseInteger(file, line, 'watchdog', words[1]), marginMs: parseInteger(file, line, 'watchdog margin', words[2]) };
    else if (words[0] === 'two-node' && words.length === 1) options.twoNode = true;
    else throw new ScenarioError(file, line, `unknown header line '${raw.trim()}'`);
  });
  if (nodes.length === 0) throw new ScenarioError(file, 1, 'no node lines');
  if (steps.length === 0) throw new ScenarioError(file, lines.length, 'no commands (lines starting with >)');
  return { file, header, options, steps };
}

/** Run one command against the simulator. Throws ScenarioError on a malformed command. */
export async function runCommand(sim: Simulator, file: string, line: number, command: string): Promise<void> {
  const [verb, ...args] = command.split(/\s+/).filter((w) => w !== '');
  const nodesOf = (tokens: string[]): number[] =>
    tokens.map((t) => {
      const id = parseNodeRef(file, line, t);
      if (!sim.nodes.has(id)) throw new ScenarioError(file, line, `${verb}: node ${t} is not defined in the header`);
      return id;
    });
  const onList = (rest: string[]): number[] | null => {
    if (rest.length === 0) return null;
    if (rest[0] !== 'on' || rest.length < 2) throw new ScenarioError(file, line, `${verb}: expected 'on NODE...' after the value`);
    return nodesOf(rest.slice(1));
  };
  switch (verb) {
    case 'start':
      await sim.start(nodesOf(args));
      break;
    case 'crash':
    case 'kill':
      await sim.crash(nodesOf(args));
      break;
    case 'cut':
      await sim.cut(nodesOf(args));
      break;
    case 'split':
      await sim.split(
        args
          .join(' ')
          .split('|')
          .map((g) =>
            nodesOf(
              g
                .trim()
                .split(/\s+/)
                .filter((w) => w !== ''),
            ),
          ),
      );
      break;
    case 'heal':
      await sim.heal(nodesOf(args));
      break;
    case 'kill-corosync':
      await sim.killCorosync(nodesOf(args));
      break;
    case 'start-corosync':
      await sim.startCorosync(nodesOf(args));
      break;
    case 'restart-listener':
      await sim.restartListener(nodesOf(args));
      break;
    case 'set-prio': {
      const [nodeArg, prio, ...rest] = args;
      await sim.editNode(nodesOf([nodeArg ?? ''])[0], { prio: parseInteger(file, line, 'set-prio', prio) }, onList(rest));
      break;
    }
    case 'set-replication': {
      const [nodeArg, value, ...rest] = args;
      if (value !== 'on' && value !== 'off') throw new ScenarioError(file, line, `set-replication: expected on or off, got '${value ?? ''}'`);
      await sim.editNode(nodesOf([nodeArg ?? ''])[0], { replication: value === 'on' }, onList(rest));
      break;
    }
    case 'cut-on-raise':
      if (args.length > 1) throw new ScenarioError(file, line, 'cut-on-raise: at most one node');
      sim.cutOnRaise(args.length === 0 ? undefined : nodesOf(args)[0]);
      break;
    case 'wait':
      await sim.wait(parseInteger(file, line, 'wait', args[0]));
      break;
    case 'carrier-down':
      await sim.carrierDown(nodesOf(args));
      break;
    case 'carrier-up':
      await sim.carrierUp(nodesOf(args));
      break;
    case 'freeze':
    case 'thaw':
    case 'hang-suspend': {
      if (!(sim instanceof FencingSimulator)) throw new ScenarioError(file, line, `${verb}: needs a FencingSimulator`);
      const ids = nodesOf(args);
      if (verb === 'freeze') await sim.freeze(ids);
      else if (verb === 'thaw') await sim.thaw(ids);
      else sim.hangSuspend(ids);
      break;
    }
    case 'operate': {
      // operate NODE COMMAND...: an operator's command given to NODE's listener (operations.ts)
      const [nodeArg, ...words] = args;
      const to = nodesOf([nodeArg ?? ''])[0];
      let command: OperatorCommand;
      try {
        command = parseOperatorCommand(words);
      } catch (err) {
        throw new ScenarioError(file, line, `operate: ${(err as Error).message}`);
      }
      await sim.deliver(to, { type: 'command', now: sim.now, id: `line-${line}`, command });
      break;
    }
    default:
      throw new ScenarioError(file, line, `unknown command '${verb ?? ''}'`);
  }
}

/** Run every step; the actual log of a step includes `! ...` lines for invariant violations. */
export async function runScenario(scenario: Scenario): Promise<StepResult[]> {
  const sim = new FencingSimulator(scenario.options);
  const reported = new Set<string>();
  const results: StepResult[] = [];
  for (const step of scenario.steps) {
    await runCommand(sim, scenario.file, step.line, step.command);
    const actual = sim.takeLog();
    for (const p of checkInvariants(sim)) {
      if (!reported.has(p)) actual.push(`! ${p}`);
      reported.add(p);
    }
    results.push({ ...step, actual });
  }
  return results;
}

/** The scenario file with the actual logs in place of the expected ones (for review in a diff). */
export function renderScenario(scenario: Scenario, results: StepResult[]): string {
  const out = [...scenario.header];
  for (const r of results) {
    out.push(`> ${r.command}`);
    for (const l of r.actual) out.push(`  ${l}`);
  }
  return `${out.join('\n')}\n`;
}

/** Human-readable differences, or [] when every step matched. */
export function describeMismatches(scenario: Scenario, results: StepResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (r.expected.length === r.actual.length && r.expected.every((l, i) => l === r.actual[i])) continue;
    out.push(`${scenario.file}:${r.line}: after '> ${r.command}'`);
    out.push('  expected:', ...r.expected.map((l) => `    ${l}`), '  actual:', ...r.actual.map((l) => `    ${l}`));
  }
  return out;
}
