/** Latency samples in milliseconds and the percentiles the benchmarks report. */

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  mean: number;
}

/**
 * The nearest-rank percentile: the smallest sample that at least `fraction` of the samples do not
 * exceed. With 200 samples, p99 is the second slowest; no interpolation invents a time nobody saw.
 */
export function percentile(samples: readonly number[], fraction: number): number {
  if (samples.length === 0) throw new RangeError('percentile of no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(fraction * sorted.length));
  return sorted[rank - 1] ?? Number.NaN;
}

export function summarizeLatencies(samples: readonly number[]): LatencySummary {
  return {
    count: samples.length,
    p50: percentile(samples, 0.5),
    p99: percentile(samples, 0.99),
    mean: samples.reduce((sum, sample) => sum + sample, 0) / samples.length,
  };
}

export interface Timed<T> {
  value: T;
  milliseconds: number;
}

/** Runs `run` once and measures its wall time. */
export async function timed<T>(run: () => Promise<T>): Promise<Timed<T>> {
  const started = performance.now();
  const value = await run();
  return { value, milliseconds: performance.now() - started };
}
