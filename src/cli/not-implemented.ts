// Commands whose implementation lands with other work (daemon, sandbox, config sync, reading
// corosync directly) fail loudly through this instead of pretending to work.
import { EXIT } from './options';
import { CliError } from './io';

export function notImplemented(what: string): never {
  throw new CliError(`${what} is not implemented yet`, EXIT.FAILURE);
}
