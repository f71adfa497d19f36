/**
 * Movers and unusual volume over daily bars. Small local versions: when src/domain/analytics
 * gains its own (movers, unusual volume), the routes switch to those.
 */

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

export function movers(
  stats: readonly DailyStat[],
  top: number,
): { gainers: Mover[]; losers: Mover[]; most_active: Mover[] } {
  const all = stats.map((s) => {
    const change = s.prevClose === null ? 0 : s.price - s.prevClose;
    const pct = s.prevClose ? (change / s.prevClose) * 100 : 0;
    return {
      symbol: s.symbol,
      price: s.price,
      change: Math.round(change * 1e6) / 1e6,
      percent_change: Math.round(pct * 1e4) / 1e4,
      volume: s.volume,
    };
  });
  const withPrev = all.filter((_m, i) => stats[i]!.prevClose !== null);
  const bySymbol = (a: Mover, b: Mover) => (a.symbol < b.symbol ? -1 : 1);
  return {
    gainers: withPrev
      .filter((m) => m.percent_change > 0)
      .sort((a, b) => b.percent_change - a.percent_change || bySymbol(a, b))
      .slice(0, top),
    losers: withPrev
      .filter((m) => m.percent_change < 0)
      .sort((a, b) => a.percent_change - b.percent_change || bySymbol(a, b))
      .slice(0, top),
    most_active: [...all].sort((a, b) => b.volume - a.volume || bySymbol(a, b)).slice(0, top),
  };
}

export interface VolumeAlert {
  symbol: string;
  volume: number;
  average_volume: number;
  ratio: number;
}

/** Today's volume at least `ratio` times the average of the previous days' (needs 5 days of history). */
export function unusualVolume(stats: readonly DailyStat[], ratio: number): VolumeAlert[] {
  const out: VolumeAlert[] = [];
  for (const s of stats) {
    if (s.history.length < 5) continue;
    const avg = s.history.reduce((a, b) => a + b, 0) / s.history.length;
    if (avg <= 0) continue;
    const r = s.volume / avg;
    if (r >= ratio) {
      out.push({
        symbol: s.symbol,
        volume: s.volume,
        average_volume: Math.round(avg),
        ratio: Math.round(r * 100) / 100,
      });
    }
  }
  return out.sort((a, b) => b.ratio - a.ratio);
}
