// A CommandRunner that records argv and answers from a handler, for unit tests.
import type { CommandResult, CommandRunner, RunOptions } from '../../../src/actions/command-runner';

export type FakeAnswer = Partial<Omit<CommandResult, 'argv'>>;

export class FakeRunner implements CommandRunner {
  readonly calls: Array<{ argv: string[]; options: RunOptions }> = [];
  constructor(private readonly handler: (argv: string[], options: RunOptions) => FakeAnswer | Promise<FakeAnswer> = () => ({})) {}

  async run(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    this.calls.push({ argv: [...argv], options });
    options.onSpawn?.();
    const answer = await this.handler([...argv], options);
    return {
      argv: [...argv],
      exitCode: 0,
      signal: null,
      stdout: '',
      stderr: '',
      truncated: false,
      timedOut: false,
      aborted: false,
      durationMs: 0,
      ...answer,
    };
  }

  /** The argv of every call, joined with spaces, for compact assertions. */
  get commands(): string[] {
    return this.calls.map((c) => c.argv.join(' '));
  }
}
