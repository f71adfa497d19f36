/**
 * Movers and unusual volume as the API shows them, computed by the shared analytics
 * (src/domain/analytics/market.ts) over each symbol's daily bars.
 */
import { unusualVolume as judgeVolume, movers as rank } from '../../domain/analytics/market.ts';

export interface DailyStat {
  symbol: string;
  /** last price */
  price: number;
  /** previous day's close; null when unknown */
  prevClose: number | null;
  /** today's volume */
  volume: number;
  /** previous days' volumes, newest first */
  history: number[];
}

export interface Mover {
  symbol: string;
  price: number;
  change: number;
  percent_change: number;
  volume: number;
}

const round = (x: number, places: number): number => Math.round(x * 10 ** places) / 10 ** places;

export function movers(
  stats: readonly DailyStat[],
  top: number,
): { gainers: Mover[]; losers: Mover[]; most_active: Mover[] } {
  // without a previous close a symbol has no change (ratio null): it can only be among the most active
  const ranked = rank(
    stats.map((s) => ({ symbol: s.symbol, last: s.price, prevClose: s.prevClose ?? 0, volume: s.volume })),
    top,
  );
  const view = (m: (typeof ranked.gainers)[number]): Mover => ({
    symbol: m.symbol,
    price: m.last,
    change: m.changeRatio === null ? 0 : round(m.change, 6),
    percent_change: m.changeRatio === null ? 0 : round(m.changeRatio * 100, 4),
    volume: m.volume,
  });
  return {
    gainers: ranked.gainers.map(view),
    losers: ranked.losers.map(view),
    most_active: ranked.mostActive.map(view),
  };
}

export interface VolumeAlert {
  symbol: string;
  volume: number;
  average_volume: number;
  ratio: number;
  /** standard deviations above the average; null when the past volumes do not vary */
  z_score: number | null;
}

/**
 * Today's volume against the previous days' (at least 5 of them, at most 20): unusual when it is
 * at least `ratio` times their average AND at least 3 standard deviations above it.
 */
export function unusualVolume(stats: readonly DailyStat[], ratio: number): VolumeAlert[] {
  const out: VolumeAlert[] = [];
  for (const s of stats) {
    if (s.history.length < 5) continue;
    const past = [...s.history].reverse(); // oldest first
    const verdict = judgeVolume(past, s.volume, { lookback: 20, zScore: 3, minRatio: ratio });
    if (!verdict.unusual || verdict.ratio === null) continue;
    out.push({
      symbol: s.symbol,
      volume: s.volume,
      average_volume: Math.round(s.volume / verdict.ratio),
      ratio: round(verdict.ratio, 2),
      z_score: verdict.z === null ? null : round(verdict.z, 2),
    });
  }
  return out.sort((a, b) => b.ratio - a.ratio);
}
