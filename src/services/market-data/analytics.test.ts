import { describe, expect, it } from 'vitest';
import { type DailyStat, movers, unusualVolume } from './analytics.ts';

const stat = (
  symbol: string,
  price: number,
  prevClose: number | null,
  volume: number,
  history: number[] = [],
) => ({ symbol, price, prevClose, volume, history }) satisfies DailyStat;

describe('market-data movers and volume alerts', () => {
  it('ranks by percent change against the previous close; without one, only by volume', () => {
    const m = movers(
      [
        stat('UP', 110, 100, 500),
        stat('DOWN', 95, 100, 900),
        stat('NEW', 50, null, 5_000),
        stat('FLAT', 10, 10, 1),
      ],
      5,
    );
    expect(m.gainers).toEqual([{ symbol: 'UP', price: 110, change: 10, percent_change: 10, volume: 500 }]);
    expect(m.losers.map((x) => [x.symbol, x.percent_change])).toEqual([['DOWN', -5]]);
    expect(m.most_active.map((x) => x.symbol)).toEqual(['NEW', 'DOWN', 'UP', 'FLAT']);
    expect(m.most_active[0]).toMatchObject({ change: 0, percent_change: 0 });
  });

  it('flags a volume far above a steady past, not a big day in a jumpy one, and needs 5 days', () => {
    const steady = [1000, 1100, 900, 1000, 1050, 950];
    const jumpy = [100, 5000, 200, 4000, 300, 6000];
    const alerts = unusualVolume(
      [
        stat('SPIKE', 1, 1, 5000, steady),
        stat('JUMPY', 1, 1, 5000, jumpy),
        stat('SHORT', 1, 1, 50_000, [1000, 1000, 1000, 1000]),
      ],
      2,
    );
    expect(alerts.map((a) => a.symbol)).toEqual(['SPIKE']);
    expect(alerts[0]!.ratio).toBe(5);
    expect(alerts[0]!.average_volume).toBe(1000);
    expect(alerts[0]!.z_score).toBeGreaterThan(3);
  });
});
