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

/**
 * `ip -j -batch -` on a simulated device `dev` holding `addrs` (address -> prefix length): the
 * input lines one after the other, stopping at the first failure as ip does; `addr show` prints
 * `show()`. `addIsNoop`: an add that reports success and changes nothing.
 */
export function fakeIpBatch(input: string, addrs: Map<string, number>, show: () => string, options: { dev?: string; addIsNoop?: boolean } = {}): FakeAnswer {
  const dev = options.dev ?? 'vmbr0';
  let stdout = '';
  for (const [i, line] of input.trimEnd().split('\n').entries()) {
    const failed = (msg: string): FakeAnswer => ({ exitCode: 1, stdout, stderr: `${msg}\nCommand failed -:${i + 1}\n` });
    const m = /^addr (add|del) ([\d.]+)\/(\d+) dev (\S+)$/.exec(line);
    if (m !== null && m[4] !== dev) return failed(`Cannot find device "${m[4]}"`);
    if (m?.[1] === 'add') {
      if (addrs.has(m[2])) return failed('Error: ipv4: Address already assigned.');
      if (!options.addIsNoop) addrs.set(m[2], Number(m[3]));
    } else if (m?.[1] === 'del') {
      if (addrs.get(m[2]) !== Number(m[3])) return failed('Error: ipv4: Address not found.');
      addrs.delete(m[2]);
    } else if (line === `addr show dev ${dev}`) {
      stdout += show();
    } else {
      return failed(`unexpected batch line ${line}`);
    }
  }
  return { stdout };
}
