export { Simulator, nodeName, type Held, type SimNode, type SimNodeSpec, type SimOptions } from './simulator';
export { checkInvariants } from './invariants';
export { ScenarioError, describeMismatches, parseScenario, renderScenario, runCommand, runScenario, type Scenario, type ScenarioStep, type StepResult } from './scenario';
export { FencingSimulator } from './fencing-sim';
