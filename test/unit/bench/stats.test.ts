import { describe, expect, it } from 'vitest';
import { median, percentile, summarize } from '../../../bench/lib/stats';

describe('bench stats', () => {
  it('median of odd and even counts, independent of input order', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median(Float64Array.from([9]))).toBe(9);
  });

  it('nearest-rank percentiles are observed values', () => {
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i); // 100..1, unsorted
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile([1, 2, 3], 99)).toBe(3); // ceil(2.97) = 3rd value
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
  });

  it('summarize', () => {
    expect(summarize([3, 1, 2])).toEqual({ count: 3, min: 1, median: 2, p95: 3, p99: 3, max: 3, mean: 2 });
  });

  it('refuses empty input and bad percentiles', () => {
    expect(() => median([])).toThrow(/no samples/);
    expect(() => summarize([])).toThrow(/no samples/);
    expect(() => percentile([1], 0)).toThrow(/\(0, 100\]/);
    expect(() => percentile([1], 101)).toThrow(/\(0, 100\]/);
  });
});
