/** Summary statistics of repeated timings (min / median / max / mean over the measured iterations). */
import { InvalidArgumentError } from '../errors.js';

/** Summary of `n` samples. */
export interface Stats {
  n: number;
  min: number;
  /** Middle value; for even `n` the mean of the two middle values. */
  median: number;
  max: number;
  mean: number;
}

/** Summarises samples (at least one, all finite). */
export function summarize(samples: ArrayLike<number>): Stats {
  const n = samples.length;
  if (n === 0) throw new InvalidArgumentError('summarize: no samples');
  const sorted = Float64Array.from(samples).sort();
  for (const v of sorted) if (!Number.isFinite(v)) throw new InvalidArgumentError(`summarize: sample ${v} is not finite`);
  let sum = 0;
  for (const v of sorted) sum += v;
  const mid = n >> 1;
  return {
    n,
    min: sorted[0]!,
    median: n % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2,
    max: sorted[n - 1]!,
    mean: sum / n,
  };
}

/**
 * Throughput per sample: `units / (ms / 1000)` for each timing, then summarised (so `min` is the
 * rate of the slowest run and `max` the rate of the fastest).
 */
export function throughput(msSamples: readonly number[], units: number): Stats {
  return summarize(msSamples.map((ms) => units / (Math.max(ms, 1e-6) / 1000)));
}

/** `a.median / b.median` (e.g. a cached run's time over the plain forward's). */
export function medianRatio(a: Stats, b: Stats): number {
  return a.median / b.median;
}
