// Runs every text scenario in test/scenario/scenarios and compares the action log of each step
// with the expected one. UPDATE_SCENARIOS=1 rewrites the files with the actual logs instead;
// review that change with `git diff` like any other change of behaviour.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeMismatches, parseScenario, renderScenario, runScenario } from '../../src/simulator';

const dir = join(__dirname, 'scenarios');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('text scenarios', () => {
  it('has at least 25 scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  it.each(files)('%s', async (name) => {
    const path = join(dir, name);
    const scenario = parseScenario(`test/scenario/scenarios/${name}`, readFileSync(path, 'utf8'));
    const results = await runScenario(scenario);
    if (process.env.UPDATE_SCENARIOS === '1') {
      writeFileSync(path, renderScenario(scenario, results));
      return;
    }
    const mismatches = describeMismatches(scenario, results);
    if (mismatches.length > 0) {
      throw new Error(`scenario log differs (UPDATE_SCENARIOS=1 rewrites it for review):\n${mismatches.join('\n')}`);
    }
    expect(results.flatMap((r) => r.actual).filter((l) => l.startsWith('!'))).toEqual([]);
  });
});
