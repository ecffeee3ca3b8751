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

/** Runs `run` once per item, one after another, and returns each call's wall time in milliseconds. */
export async function timeEach<T>(items: readonly T[], run: (item: T) => Promise<unknown>): Promise<number[]> {
  const latencies: number[] = [];
  for (const item of items) {
    const started = performance.now();
    await run(item);
    latencies.push(performance.now() - started);
  }
  return latencies;
}
