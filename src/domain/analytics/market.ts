/**
 * Market statistics for the market-data service and the terminal: VWAP of prints, volume
 * profile, period OHLC, top movers and unusual volume. Prices and volumes are in whatever unit
 * the caller uses (cents and shares in Bourse); results that divide are floats.
 */
import type { Bar } from './indicators.ts';
import { mean, sampleStdDev } from './stats.ts';

export interface TradePrint {
  price: number;
  qty: number;
}

/** Σ price × qty / Σ qty; null when there is no volume. */
export function vwap(trades: readonly TradePrint[]): number | null {
  let pv = 0;
  let q = 0;
  trades.forEach((tr, i) => {
    if (!(Number.isFinite(tr.qty) && tr.qty >= 0))
      throw new RangeError(`trade ${i} qty must not be negative`);
    pv += tr.price * tr.qty;
    q += tr.qty;
  });
  return q > 0 ? pv / q : null;
}

export interface VolumeBucket {
  /** inclusive lower bound */
  low: number;
  /** exclusive upper bound, except for the top bucket, which includes it */
  high: number;
  volume: number;
}

/**
 * Volume by price level: `buckets` equal-width buckets from the lowest to the highest price.
 * Trades count at their price; a bar counts its whole volume at its typical price
 * (h + l + c) / 3. When every price is the same there is one bucket [p, p]. Empty input: [].
 */
export function volumeProfile(items: readonly (TradePrint | Bar)[], buckets: number): VolumeBucket[] {
  if (!(Number.isSafeInteger(buckets) && buckets >= 1)) {
    throw new RangeError(`buckets must be a positive integer, got ${buckets}`);
  }
  const levels = items.map((x) =>
    'price' in x ? { price: x.price, volume: x.qty } : { price: (x.h + x.l + x.c) / 3, volume: x.v },
  );
  if (levels.length === 0) return [];
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const { price } of levels) {
    if (!Number.isFinite(price)) throw new RangeError(`price must be finite, got ${price}`);
    min = Math.min(min, price);
    max = Math.max(max, price);
  }
  if (min === max) return [{ low: min, high: max, volume: levels.reduce((s, l) => s + l.volume, 0) }];
  const width = (max - min) / buckets;
  const lowOf = (i: number) => min + i * width;
  const out: VolumeBucket[] = Array.from({ length: buckets }, (_, i) => ({
    low: lowOf(i),
    high: i === buckets - 1 ? max : lowOf(i + 1),
    volume: 0,
  }));
  for (const { price, volume } of levels) {
    // float division can land one bucket off at an edge; settle it against the bounds reported
    let i = Math.min(buckets - 1, Math.floor((price - min) / width));
    while (i > 0 && price < out[i]!.low) i--;
    while (i < buckets - 1 && price >= out[i + 1]!.low) i++;
    out[i]!.volume += volume;
  }
  return out;
}

/**
 * One bar summarising the bars with from ≤ t < to (all bars when no range is given): first
 * open, highest high, lowest low, last close, total volume, t of the first bar. Bars must be in
 * time order. Null when no bar falls in the range.
 */
export function ohlc(bars: readonly Bar[], range?: { from: number; to: number }): Bar | null {
  const inRange = range ? bars.filter((b) => b.t >= range.from && b.t < range.to) : bars;
  const first = inRange[0];
  if (first === undefined) return null;
  const out: Bar = { ...first };
  for (let i = 1; i < inRange.length; i++) {
    const b = inRange[i]!;
    out.h = Math.max(out.h, b.h);
    out.l = Math.min(out.l, b.l);
    out.c = b.c;
    out.v += b.v;
  }
  return out;
}

export interface Snapshot {
  symbol: string;
  last: number;
  prevClose: number;
  volume: number;
}

export interface Mover extends Snapshot {
  /** last − prevClose */
  change: number;
  /** change / prevClose, a fraction (0.05 = +5 %); null without a positive previous close */
  changeRatio: number | null;
}

export interface Movers {
  /** up to n with changeRatio > 0, largest first */
  gainers: Mover[];
  /** up to n with changeRatio < 0, most negative first */
  losers: Mover[];
  /** up to n with volume > 0, largest first */
  mostActive: Mover[];
}

/** Top movers of a snapshot of the market; ties are broken by symbol so the lists are stable. */
export function movers(snapshots: readonly Snapshot[], n: number): Movers {
  if (!(Number.isSafeInteger(n) && n >= 0))
    throw new RangeError(`n must be a non-negative integer, got ${n}`);
  const all: Mover[] = snapshots.map((s) => ({
    ...s,
    change: s.last - s.prevClose,
    changeRatio: s.prevClose > 0 ? (s.last - s.prevClose) / s.prevClose : null,
  }));
  const bySymbol = (a: Mover, b: Mover) => (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0);
  return {
    gainers: all
      .filter((m) => m.changeRatio !== null && m.changeRatio > 0)
      .sort((a, b) => b.changeRatio! - a.changeRatio! || bySymbol(a, b))
      .slice(0, n),
    losers: all
      .filter((m) => m.changeRatio !== null && m.changeRatio < 0)
      .sort((a, b) => a.changeRatio! - b.changeRatio! || bySymbol(a, b))
      .slice(0, n),
    mostActive: all
      .filter((m) => m.volume > 0)
      .sort((a, b) => b.volume - a.volume || bySymbol(a, b))
      .slice(0, n),
  };
}

export interface UnusualVolumeOptions {
  /** how many of the most recent history values form the baseline */
  lookback?: number;
  /** minimum z-score of current against the baseline */
  zScore?: number;
  /** minimum current / baseline mean */
  minRatio?: number;
}

export interface UnusualVolume {
  unusual: boolean;
  /** current / mean of the baseline; null when the baseline mean is 0 */
  ratio: number | null;
  /** (current − mean) / sample sd of the baseline; null when the sd is 0 or undefined */
  z: number | null;
}

/**
 * Is `current` volume unusual against the last `lookback` values of `history` (same kind of
 * interval: daily volumes, or the same time-of-day slot on past days)? Unusual means both
 * ratio ≥ minRatio and z ≥ zScore. A baseline without spread (sd 0) passes the z test iff
 * current exceeds it; a zero baseline passes the ratio test iff current > 0. Fewer than 2
 * baseline values are not enough to judge: never unusual.
 */
export function unusualVolume(
  history: readonly number[],
  current: number,
  { lookback = 20, zScore = 3, minRatio = 2 }: UnusualVolumeOptions = {},
): UnusualVolume {
  if (!(Number.isSafeInteger(lookback) && lookback >= 1)) {
    throw new RangeError(`lookback must be a positive integer, got ${lookback}`);
  }
  const base = history.slice(-lookback);
  const m = mean(base);
  const sd = sampleStdDev(base);
  const ratio = m !== null && m > 0 ? current / m : null;
  const z = m !== null && sd !== null && sd > 0 ? (current - m) / sd : null;
  if (m === null || sd === null) return { unusual: false, ratio, z };
  const ratioOk = ratio !== null ? ratio >= minRatio : current > 0;
  const zOk = z !== null ? z >= zScore : current > m;
  return { unusual: ratioOk && zOk, ratio, z };
}
