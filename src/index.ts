// Public entry point of the corolistener package (the library VMmanager's node agent imports).
// Each module re-exports its public surface here as it lands.

// actions
export { ExecCommandRunner, prefixRunner, CommandFailedError } from './actions/command-runner';
export type { CommandRunner, CommandResult, RunOptions } from './actions/command-runner';
export type { CommandContext } from './actions/command-context';
export { DuplicateAddressError } from './actions/arping';
export { StateFileError } from './actions/state-file';
