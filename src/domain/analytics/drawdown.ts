/**
 * Drawdowns of a value series: how far below its running peak it is, as a positive fraction
 * (0.25 = 25 % below the high-water mark). Feed it a series without external cash flows (a
 * price, a NAV, or the time-weighted index of performance.ts); a withdrawal in raw account
 * equity would otherwise show as a loss.
 *
 * Points must be in time order with finite values ≥ 0. While the running peak is 0 there is
 * nothing to lose and the drawdown is 0.
 */

export interface ValuePoint {
  t: number;
  value: number;
}

export interface DrawdownPoint {
  t: number;
  /** fraction below the running peak, 0 at a new high, 1 at a total loss */
  drawdown: number;
}

export interface MaxDrawdown {
  /** the largest drawdown, a positive fraction; 0 when the series never fell */
  maxDrawdown: number;
  /** time of the high-water mark the worst drawdown is measured from (the latest time it was reached); null when maxDrawdown is 0 */
  peakAt: number | null;
  /** time of the lowest point of the worst drawdown (the first, if reached more than once); null when maxDrawdown is 0 */
  troughAt: number | null;
  /** first time after the trough that the value is back at or above that peak; null if it never is */
  recoveredAt: number | null;
}

/** One point per input point, for charts. */
export function drawdownSeries(points: readonly ValuePoint[]): DrawdownPoint[] {
  checkPoints(points);
  let peak = 0;
  return points.map(({ t, value }) => {
    if (value > peak) peak = value;
    return { t, drawdown: peak > 0 ? 1 - value / peak : 0 };
  });
}

export function maxDrawdown(points: readonly ValuePoint[]): MaxDrawdown {
  checkPoints(points);
  let peak = 0;
  let peakAt = 0;
  let worst: MaxDrawdown = { maxDrawdown: 0, peakAt: null, troughAt: null, recoveredAt: null };
  let worstPeak = 0;
  let worstIndex = -1;
  points.forEach(({ t, value }, i) => {
    if (value >= peak) {
      peak = value;
      peakAt = t;
    }
    const dd = peak > 0 ? 1 - value / peak : 0;
    if (dd > worst.maxDrawdown) {
      worst = { maxDrawdown: dd, peakAt, troughAt: t, recoveredAt: null };
      worstPeak = peak;
      worstIndex = i;
    }
  });
  if (worstIndex >= 0) {
    for (let i = worstIndex + 1; i < points.length; i++) {
      if (points[i]!.value >= worstPeak) {
        worst.recoveredAt = points[i]!.t;
        break;
      }
    }
  }
  return worst;
}

function checkPoints(points: readonly ValuePoint[]): void {
  points.forEach((p, i) => {
    if (!(Number.isFinite(p.value) && p.value >= 0)) {
      throw new RangeError(`value ${i} must be finite and not negative, got ${p.value}`);
    }
    if (i > 0 && p.t < points[i - 1]!.t) throw new RangeError(`points must be in time order (point ${i})`);
  });
}
