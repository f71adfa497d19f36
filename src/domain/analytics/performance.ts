/**
 * Portfolio performance measures for reports. Conventions:
 * - returns are fractions (0.05 = 5 %); "daily returns" are simple period returns;
 * - annualisation multiplies a per-period standard deviation by √periodsPerYear (252 trading
 *   days by default) and a per-period mean by periodsPerYear;
 * - standard deviations are sample (n − 1);
 * - the annual risk-free rate is turned into a per-period rate geometrically,
 *   (1 + rf)^(1 / periodsPerYear) − 1, and defaults to 0;
 * - an undefined result (too little data, no variance, no trades) is null, never NaN.
 */
import type { ValuePoint } from './drawdown.ts';
import { beta, checkPeriods, correlation, simpleReturns } from './returns.ts';
import { mean, sameLength, sampleStdDev } from './stats.ts';

/** An external cash flow: positive into the portfolio (deposit), negative out (withdrawal). */
export interface CashFlow {
  t: number;
  amount: number;
}

/**
 * The growth of one unit invested, at each valuation, with external cash flows taken out: the
 * time-weighted index (1 at the first valuation). Suits drawdown and volatility of a portfolio
 * whose owner deposits and withdraws.
 *
 * Sub-periods run from one valuation to the next. A valuation at t is the value *before* any
 * flow at t; a flow at t is applied at the start of the sub-period beginning at t, so that
 * sub-period returns V(next) / (V(t) + flows) − 1. A flow between two valuations is treated as
 * if it happened at the earlier one (value the portfolio at every flow for an exact TWR).
 * Flows before the first valuation or at/after the last one fall outside the measured span and
 * do not change the result. A sub-period that starts with nothing invested (V + flows = 0)
 * counts as a 0 return if it also ends at 0; one that starts below 0, or at 0 and ends above
 * it, is inconsistent data and throws.
 */
export function timeWeightedIndex(
  valuations: readonly ValuePoint[],
  flows: readonly CashFlow[],
): ValuePoint[] {
  valuations.forEach((v, i) => {
    if (!(Number.isFinite(v.value) && v.value >= 0)) {
      throw new RangeError(`valuation ${i} must be finite and not negative, got ${v.value}`);
    }
    if (i > 0 && !(v.t > valuations[i - 1]!.t))
      throw new RangeError(`valuations must be in strictly increasing time (valuation ${i})`);
  });
  const flowAt = new Array<number>(valuations.length).fill(0);
  flows.forEach((f, k) => {
    if (!Number.isFinite(f.amount)) throw new RangeError(`flow ${k} amount must be finite, got ${f.amount}`);
    const i = lastAtOrBefore(valuations, f.t);
    if (i >= 0 && i < valuations.length - 1) flowAt[i]! += f.amount;
  });
  const out: ValuePoint[] = [];
  let index = 1;
  valuations.forEach((v, i) => {
    if (i > 0) {
      const start = valuations[i - 1]!.value + flowAt[i - 1]!;
      if (start > 0) index *= v.value / start;
      else if (start < 0 || v.value !== 0) {
        throw new RangeError(`sub-period ending at valuation ${i} starts at ${start} and ends at ${v.value}`);
      }
    }
    out.push({ t: v.t, value: index });
  });
  return out;
}

/** Chain-linked time-weighted return over the valuations (see timeWeightedIndex); null with fewer than 2. */
export function timeWeightedReturn(
  valuations: readonly ValuePoint[],
  flows: readonly CashFlow[],
): number | null {
  const idx = timeWeightedIndex(valuations, flows);
  return idx.length < 2 ? null : idx[idx.length - 1]!.value - 1;
}

/** Sample standard deviation of the period returns × √periodsPerYear; null with fewer than 2. */
export function annualisedVolatility(dailyReturns: readonly number[], periodsPerYear = 252): number | null {
  checkPeriods(periodsPerYear);
  const sd = sampleStdDev(dailyReturns);
  return sd === null ? null : sd * Math.sqrt(periodsPerYear);
}

/**
 * Annualised Sharpe ratio: mean(r − rf) / sd(r − rf) × √periodsPerYear, with rf the per-period
 * risk-free rate (geometric from the annual one). Null with fewer than 2 returns or none of
 * them varying.
 */
export function sharpeRatio(
  dailyReturns: readonly number[],
  riskFreeAnnual = 0,
  periodsPerYear = 252,
): number | null {
  checkPeriods(periodsPerYear);
  if (!(Number.isFinite(riskFreeAnnual) && riskFreeAnnual > -1)) {
    throw new RangeError(`riskFreeAnnual must be above -1, got ${riskFreeAnnual}`);
  }
  const rf = (1 + riskFreeAnnual) ** (1 / periodsPerYear) - 1;
  const excess = dailyReturns.map((r) => r - rf);
  const sd = sampleStdDev(excess);
  if (sd === null || sd === 0) return null;
  return (mean(excess)! / sd) * Math.sqrt(periodsPerYear);
}

/** Fraction of closed trades with a profit (pnl > 0; break-even counts as not winning); null when there are none. */
export function winRate(realisedPnls: readonly number[]): number | null {
  if (realisedPnls.length === 0) return null;
  return realisedPnls.filter((p) => p > 0).length / realisedPnls.length;
}

/**
 * Traded notional over average equity for the same period (e.g. 2.5 = the book was traded
 * 2.5 times). What counts as notional (buys + sells, or one side) is the caller's choice; both
 * must be in the same unit. Null when the average equity is not positive.
 */
export function turnover(tradedNotional: number, averageEquity: number): number | null {
  if (!Number.isFinite(tradedNotional) || tradedNotional < 0) {
    throw new RangeError(`tradedNotional must be finite and not negative, got ${tradedNotional}`);
  }
  if (!(Number.isFinite(averageEquity) && averageEquity > 0)) return null;
  return tradedNotional / averageEquity;
}

export interface BenchmarkComparison {
  /** last / first − 1 of the portfolio values */
  portfolioReturn: number | null;
  benchmarkReturn: number | null;
  /** portfolioReturn − benchmarkReturn (arithmetic excess) */
  excessReturn: number | null;
  /** of the period returns, sample */
  beta: number | null;
  correlation: number | null;
  /** sample standard deviation of (portfolio − benchmark) period returns × √periodsPerYear */
  trackingError: number | null;
}

/**
 * Portfolio against a benchmark over the same dates: both series aligned point by point, equal
 * length, positive. Use values without external cash flows (e.g. timeWeightedIndex values).
 */
export function benchmarkComparison(
  portfolioValues: readonly number[],
  benchmarkPrices: readonly number[],
  periodsPerYear = 252,
): BenchmarkComparison {
  sameLength(portfolioValues, benchmarkPrices);
  checkPeriods(periodsPerYear);
  const rp = simpleReturns(portfolioValues);
  const rb = simpleReturns(benchmarkPrices);
  if (rp.length === 0) {
    return {
      portfolioReturn: null,
      benchmarkReturn: null,
      excessReturn: null,
      beta: null,
      correlation: null,
      trackingError: null,
    };
  }
  const portfolioReturn = portfolioValues[portfolioValues.length - 1]! / portfolioValues[0]! - 1;
  const benchmarkReturn = benchmarkPrices[benchmarkPrices.length - 1]! / benchmarkPrices[0]! - 1;
  const te = sampleStdDev(rp.map((r, i) => r - rb[i]!));
  return {
    portfolioReturn,
    benchmarkReturn,
    excessReturn: portfolioReturn - benchmarkReturn,
    beta: beta(rp, rb),
    correlation: correlation(rp, rb),
    trackingError: te === null ? null : te * Math.sqrt(periodsPerYear),
  };
}

/** Index of the last valuation at or before t; −1 if t precedes them all. */
function lastAtOrBefore(valuations: readonly ValuePoint[], t: number): number {
  let lo = 0;
  let hi = valuations.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (valuations[mid]!.t <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
