// What a benchmark part is to the runner (bench/run.ts), and the env knobs parts read.

export interface PartContext {
  /** Progress on stderr, prefixed with the part's id (the section gets only results). */
  log(message: string): void;
}

export interface BenchPart {
  /** Name on the command line (`npm run bench -- <id>`) and BENCHMARKS.md marker id. */
  id: string;
  title: string;
  /** Repository path of the part's source, named in its section marker. */
  source: string;
  /** Env variables that change what it measures (listed in the command when set). */
  env: readonly string[];
  /**
   * Sections it writes, when more than one (default: one, marker `id`, heading `title`): one
   * set of measurements can feed several sections.
   */
  sections?: ReadonlyArray<{ id: string; title: string }>;
  /**
   * Measures and returns the section body (Markdown lines, after machine and command), or with
   * `sections`, the body of each by section id.
   */
  run(ctx: PartContext): Promise<string[] | Record<string, string[]>>;
  /**
   * Not part of the full run (`npm run bench` with no part named): it runs only when named, as a
   * 30-minute soak would not fit the full run's 20-minute budget.
   */
  optIn?: boolean;
  /**
   * Marker id of the section to write, when it depends on the settings (default `id`): a run
   * far longer than `npm run bench` allows keeps a section of its own.
   */
  sectionId?(): string;
}

/** An integer knob from the environment: `name` unset -> `fallback`; anything else must be an integer >= min. */
export function envInt(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`environment variable ${name}: expected an integer >= ${min}, got ${JSON.stringify(raw)}`);
  return n;
}
