/**
 * Returns and co-movement of price series. Prices must be positive and finite (a zero or
 * negative price has no return); return series passed to beta/correlation must be aligned
 * period by period and of equal length. Statistics are sample statistics (n − 1), and a result
 * that is undefined (too few points, a series with no variance) is null rather than NaN.
 */
import { isConstant, mean, sameLength, sampleCovariance, sampleStdDev, sampleVariance } from './stats.ts';

/** r[i] = p[i + 1] / p[i] − 1; one shorter than the prices. */
export function simpleReturns(prices: readonly number[]): number[] {
  checkPrices(prices);
  const out: number[] = [];
  for (let i = 1; i < prices.length; i++) out.push(prices[i]! / prices[i - 1]! - 1);
  return out;
}

/** r[i] = ln(p[i + 1] / p[i]); one shorter than the prices. */
export function logReturns(prices: readonly number[]): number[] {
  checkPrices(prices);
  const out: number[] = [];
  for (let i = 1; i < prices.length; i++) out.push(Math.log(prices[i]! / prices[i - 1]!));
  return out;
}

/**
 * Annualised realised volatility: sample standard deviation of the log returns × √periodsPerYear
 * (252 trading days by default; pass 52 for weekly prices, 252 × bars-per-day for intraday).
 * Null with fewer than 3 prices.
 */
export function realisedVolatility(prices: readonly number[], periodsPerYear = 252): number | null {
  checkPeriods(periodsPerYear);
  const sd = sampleStdDev(logReturns(prices));
  return sd === null ? null : sd * Math.sqrt(periodsPerYear);
}

/**
 * Beta of an asset against a benchmark: cov(asset, benchmark) / var(benchmark), both sample.
 * Null with fewer than 2 periods or a benchmark without variance.
 */
export function beta(assetReturns: readonly number[], benchmarkReturns: readonly number[]): number | null {
  sameLength(assetReturns, benchmarkReturns);
  const v = sampleVariance(benchmarkReturns);
  if (v === null || v === 0) return null;
  return sampleCovariance(assetReturns, benchmarkReturns)! / v;
}

/**
 * Pearson correlation in [−1, 1]. Meant for returns, not prices (trending prices correlate
 * spuriously). Null with fewer than 2 points or when either series is constant.
 */
export function correlation(a: readonly number[], b: readonly number[]): number | null {
  sameLength(a, b);
  if (a.length < 2 || isConstant(a) || isConstant(b)) return null;
  const ma = mean(a)!;
  const mb = mean(b)!;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < a.length; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa === 0 || sbb === 0) return null;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}

/**
 * Pairwise correlations, `matrix[a][b]`, for aligned series of equal length (returns, per
 * symbol). The diagonal is 1 for a series with variance, null otherwise.
 */
export function correlationMatrix(
  series: Readonly<Record<string, readonly number[]>>,
): Record<string, Record<string, number | null>> {
  const names = Object.keys(series);
  for (const n of names) sameLength(series[names[0]!]!, series[n]!);
  const r: (number | null)[][] = names.map(() => []);
  for (let i = 0; i < names.length; i++) {
    const a = series[names[i]!]!;
    r[i]![i] = correlation(a, a) === null ? null : 1;
    for (let j = i + 1; j < names.length; j++) r[i]![j] = r[j]![i] = correlation(a, series[names[j]!]!);
  }
  // fromEntries, not assignment, so that a symbol such as "__proto__" stays an ordinary key
  return Object.fromEntries(
    names.map((a, i) => [a, Object.fromEntries(names.map((b, j) => [b, r[i]![j]!]))]),
  );
}

function checkPrices(prices: readonly number[]): void {
  prices.forEach((p, i) => {
    if (!(Number.isFinite(p) && p > 0))
      throw new RangeError(`price ${i} must be positive and finite, got ${p}`);
  });
}

export function checkPeriods(periodsPerYear: number): void {
  if (!(Number.isFinite(periodsPerYear) && periodsPerYear > 0)) {
    throw new RangeError(`periodsPerYear must be positive, got ${periodsPerYear}`);
  }
}
