/** Latency statistics over per-command samples (nanoseconds). */

export interface LatencySummary {
  samples: number;
  p50ns: number;
  p90ns: number;
  p99ns: number;
  p999ns: number;
  maxNs: number;
  meanNs: number;
}

/** Nearest-rank percentile of an ascending-sorted array; q in [0, 1]. */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/** Sorts `samples` in place and summarizes it. */
export function summarize(samples: Float64Array): LatencySummary {
  samples.sort();
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]!;
  return {
    samples: samples.length,
    p50ns: percentile(samples, 0.5),
    p90ns: percentile(samples, 0.9),
    p99ns: percentile(samples, 0.99),
    p999ns: percentile(samples, 0.999),
    maxNs: samples.length > 0 ? samples[samples.length - 1]! : Number.NaN,
    meanNs: samples.length > 0 ? sum / samples.length : Number.NaN,
  };
}

/**
 * The cost of one timed interval with nothing inside it: two back-to-back `process.hrtime.bigint()`
 * calls plus the subtraction, measured the same way the benchmark loops measure a command. The
 * median of many tries is what each latency sample over-reports; callers subtract it.
 */
export function timerOverheadNs(tries = 200_000): number {
  const samples = new Float64Array(tries);
  for (let i = 0; i < tries; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
  }
  samples.sort();
  return percentile(samples, 0.5);
}

/** Rounds to `digits` decimals (for JSON output). */
export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
