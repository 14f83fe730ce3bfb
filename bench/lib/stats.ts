// Summary statistics every benchmark reports. Percentiles use the nearest-rank method, so a
// reported p95/p99 is always a value that was actually observed (no interpolation between runs).

export interface Summary {
  count: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

function sorted(xs: ArrayLike<number>): number[] {
  return Array.from(xs).sort((a, b) => a - b);
}

function requireSamples(xs: ArrayLike<number>, what: string): void {
  if (xs.length === 0) throw new Error(`${what} of no samples`);
}

/** Median; the mean of the two middle values for an even count. */
export function median(xs: ArrayLike<number>): number {
  requireSamples(xs, 'median');
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile, p in (0, 100]: the smallest sample with at least p% of samples at or below it. */
export function percentile(xs: ArrayLike<number>, p: number): number {
  requireSamples(xs, `p${p}`);
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: p must be in (0, 100], got ${p}`);
  const s = sorted(xs);
  return s[Math.max(0, Math.ceil((p / 100) * s.length) - 1)]!;
}

export function summarize(xs: ArrayLike<number>): Summary {
  requireSamples(xs, 'summary');
  const s = sorted(xs);
  return {
    count: s.length,
    min: s[0]!,
    median: median(s),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s[s.length - 1]!,
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}
