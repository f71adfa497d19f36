/**
 * Series for tear sheets: returns compounded by calendar month and year, rolling volatility, and
 * cumulative return. Inputs are value series without external flows (a price, or the
 * time-weighted index of performance.ts), in time order, at UTC times.
 */
import type { ValuePoint } from './drawdown.ts';
import { checkPeriods } from './returns.ts';
import { sampleStdDev } from './stats.ts';

export interface PeriodReturn {
  /** 'YYYY-MM' for a month, 'YYYY' for a year */
  period: string;
  /** last value of the period / last value before it − 1 (the first period: / the first value) */
  return: number;
}

/**
 * Each calendar month's return (UTC): its last value over the last value of the month before.
 * The first month is measured from the series' first value, so a series starting mid-month
 * gives that month's partial return. Months without a point are absent.
 */
export function monthlyReturns(points: readonly ValuePoint[]): PeriodReturn[] {
  return periodReturns(points, (t) => new Date(t).toISOString().slice(0, 7));
}

/** Each calendar year's return (UTC), the same way as monthlyReturns. */
export function yearlyReturns(points: readonly ValuePoint[]): PeriodReturn[] {
  return periodReturns(points, (t) => new Date(t).toISOString().slice(0, 4));
}

function periodReturns(points: readonly ValuePoint[], key: (t: number) => string): PeriodReturn[] {
  check(points);
  const out: PeriodReturn[] = [];
  if (points.length === 0) return out;
  let base = points[0]!.value;
  let current = key(points[0]!.t);
  let last = base;
  const close = () => {
    out.push({ period: current, return: base > 0 ? last / base - 1 : 0 });
    base = last;
  };
  for (const p of points) {
    const k = key(p.t);
    if (k !== current) {
      close();
      current = k;
    }
    last = p.value;
  }
  close();
  return out;
}

/**
 * Annualised volatility over a trailing window of period returns: sample sd of returns
 * [i − window + 1, i] × √periodsPerYear, at each i from window − 1 on; null before that (and
 * for a window without variance data).
 */
export function rollingVolatility(
  returns: readonly number[],
  window: number,
  periodsPerYear = 252,
): (number | null)[] {
  checkPeriods(periodsPerYear);
  if (!(Number.isInteger(window) && window >= 2))
    throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  return returns.map((_, i) => {
    if (i < window - 1) return null;
    const sd = sampleStdDev(returns.slice(i - window + 1, i + 1));
    return sd === null ? null : sd * Math.sqrt(periodsPerYear);
  });
}

/** value / first value − 1 at each point (0 at the first); empty for an empty series. */
export function cumulativeReturns(values: readonly number[]): number[] {
  if (values.length === 0) return [];
  const first = values[0]!;
  if (!(first > 0)) throw new RangeError(`the first value must be positive, got ${first}`);
  return values.map((v) => v / first - 1);
}

/**
 * Compound annual growth rate: (last / first)^(1 / years) − 1 over the span of the points
 * (365.25-day years); null for less than a day of history or a non-positive first value.
 */
export function cagr(points: readonly ValuePoint[]): number | null {
  if (points.length < 2) return null;
  const first = points[0]!;
  const last = points[points.length - 1]!;
  const years = (last.t - first.t) / (365.25 * 86_400_000);
  if (!(first.value > 0) || years <= 0 || last.value < 0) return null;
  return (last.value / first.value) ** (1 / years) - 1;
}

function check(points: readonly ValuePoint[]): void {
  points.forEach((p, i) => {
    if (!(Number.isFinite(p.value) && p.value >= 0)) {
      throw new RangeError(`value ${i} must be finite and not negative, got ${p.value}`);
    }
    if (i > 0 && p.t < points[i - 1]!.t) throw new RangeError(`points must be in time order (point ${i})`);
  });
}
