import { describe, expect, it } from 'vitest';
import { ScenarioError, Simulator, parseScenario, runCommand } from '../../../src/simulator';

describe('scenario parsing', () => {
  it('names file, line and field on bad input', () => {
    expect(() => parseScenario('s.txt', 'node 2 prio=high\n> start n2\n')).toThrow(new ScenarioError('s.txt', 1, "prio: expected a non-negative integer, got 'high'"));
    expect(() => parseScenario('s.txt', 'node 2 prio=1\nnode 2 prio=3\n> start n2\n')).toThrow('s.txt:2: node 2 defined twice');
    expect(() => parseScenario('s.txt', 'node 2 color=red\n> start n2\n')).toThrow("s.txt:1: node: unknown or invalid field 'color=red'");
    expect(() => parseScenario('s.txt', 'node 2 prio=1\n> start n2\nn2 master\n')).toThrow('s.txt:3: expected log lines are indented by two spaces');
    expect(() => parseScenario('s.txt', 'node 2 prio=1\n')).toThrow('s.txt:1: no commands');
  });

  it('rejects unknown commands and nodes with the line', async () => {
    const sim = new Simulator({ nodes: [{ nodeId: 2, prio: 1, replication: true, vms: [] }] });
    await expect(runCommand(sim, 's.txt', 7, 'explode n2')).rejects.toThrow("s.txt:7: unknown command 'explode'");
    await expect(runCommand(sim, 's.txt', 8, 'cut n5')).rejects.toThrow('s.txt:8: cut: node n5 is not defined in the header');
    await expect(runCommand(sim, 's.txt', 9, 'set-replication n2 maybe')).rejects.toThrow("s.txt:9: set-replication: expected on or off, got 'maybe'");
  });

  it('keeps header lines and expected logs per command', () => {
    const s = parseScenario('s.txt', '# title\nnode 2 prio=5 vms=a,b\ntakeover-delay 100\n> start n2\n  n2 master\n\n> wait 5\n');
    expect(s.options).toEqual({ nodes: [{ nodeId: 2, prio: 5, replication: true, vms: ['a', 'b'] }], takeoverDelayMs: 100 });
    expect(s.steps).toEqual([
      { line: 4, command: 'start n2', expected: ['n2 master'] },
      { line: 7, command: 'wait 5', expected: [] },
    ]);
  });
});
