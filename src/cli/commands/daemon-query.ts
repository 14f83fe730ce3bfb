// Asking the running daemon, shared by `-l` and `status`: the control socket's errors become
// one-line CLI errors with the documented exit codes.
import { ControlSocketError, queryDaemon, type ControlCommand } from '../../daemon/control-socket';
import { ReportShapeError } from '../../daemon/report';
import { CliError } from '../io';
import { EXIT } from '../options';

/** The daemon's answer, or undefined when no daemon is there (no socket / nobody listening). */
export async function askDaemon(socket: string, cmd: ControlCommand, timeoutMs: number, fields?: Record<string, unknown>): Promise<unknown> {
  try {
    return await queryDaemon(socket, cmd, timeoutMs, fields);
  } catch (err) {
    throw cliErrorOf(err);
  }
}

/** A daemon that is there but gives no usable answer: for a caller with another source, as good as none. */
const NO_ANSWER: ReadonlySet<ControlSocketError['code']> = new Set(['timeout', 'daemon-error']);

/**
 * As askDaemon, but a daemon that does not answer in time or answers with an error counts as
 * no daemon (undefined), with `warn` told why in one line: for `-l`, which can read corosync
 * itself. Other failures (permission, a broken answer) stay errors.
 */
export async function askDaemonOrNone(socket: string, cmd: ControlCommand, timeoutMs: number, warn: (line: string) => void): Promise<unknown> {
  try {
    return await queryDaemon(socket, cmd, timeoutMs);
  } catch (err) {
    if (!(err instanceof ControlSocketError && NO_ANSWER.has(err.code))) throw cliErrorOf(err);
    warn(err.code === 'timeout' ? err.message : `the corolistener daemon on ${socket} answered with an error (${err.message})`);
    return undefined;
  }
}

function cliErrorOf(err: unknown): unknown {
  return err instanceof ControlSocketError ? new CliError(err.message, err.code === 'timeout' ? EXIT.UNREACHABLE : EXIT.FAILURE) : err;
}

/** Validates the daemon's answer; a wrong shape is a clear error naming the field. */
export function validated<T>(socket: string, parse: (value: unknown) => T, value: unknown): T {
  try {
    return parse(value);
  } catch (err) {
    if (err instanceof ReportShapeError) {
      throw new CliError(`unexpected answer from the daemon on ${socket}: ${err.message}`, EXIT.FAILURE);
    }
    throw err;
  }
}

export function noDaemon(socket: string): CliError {
  return new CliError(`no corolistener daemon answers on ${socket}`, EXIT.UNREACHABLE);
}
