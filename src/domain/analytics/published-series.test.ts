/**
 * Fixed series with answers worked out by hand (and one published example), as a check of the
 * whole chain: prices → returns → volatility, values → drawdown, valuations + flows → TWR index.
 */
import { describe, expect, it } from 'vitest';
import { drawdownSeries, maxDrawdown } from './drawdown.ts';
import { timeWeightedIndex } from './performance.ts';
import { logReturns, realisedVolatility } from './returns.ts';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 5);
const daily = (values: number[]) => values.map((value, i) => ({ t: T0 + i * DAY, value }));
const near = (a: number, b: number): void => {
  expect(Math.abs(a - b)).toBeLessThan(1e-12 * Math.max(1, Math.abs(b)));
};

describe('the Investopedia maximum-drawdown example', () => {
  // "Maximum Drawdown (MDD)", Investopedia: a portfolio starts at $500,000, rises to $750,000,
  // falls to $400,000, rises to $600,000, falls to $350,000 and ends at $800,000:
  // MDD = (350,000 − 750,000) / 750,000 = −53.33 %.
  const pts = daily([500_000, 750_000, 400_000, 600_000, 350_000, 800_000]);

  it('gives 8/15 from the 750k peak to the 350k trough, recovered at 800k', () => {
    const m = maxDrawdown(pts);
    near(m.maxDrawdown, 8 / 15);
    expect(m).toMatchObject({ peakAt: T0 + DAY, troughAt: T0 + 4 * DAY, recoveredAt: T0 + 5 * DAY });
    // the first fall, 750k → 400k, is the smaller one: 7/15
    near(drawdownSeries(pts)[2]!.drawdown, 7 / 15);
  });
});

describe('a 10-day series built from chosen log returns', () => {
  // log returns r = 0.02, −0.01, 0.03, −0.02, 0.01, −0.03, 0.02, 0.00, 0.01 (n = 9)
  //   Σr = 0.03 → mean 1/300;  Σr² = 33 × 10⁻⁴
  //   Σ(r − mean)² = Σr² − n·mean² = 0.0033 − 9 / 90 000 = 0.0032
  //   sample variance 0.0032 / 8 = 0.0004 → sd 0.02 → annualised 0.02 × √252 ≈ 0.31749
  // cumulative log: 0, .02, .01, .04, .02, .03, .00, .02, .02, .03
  //   high-water mark .04 on day 3, low .00 on day 6: MDD = 1 − e^(−0.04) ≈ 0.0392106;
  //   the series ends at .03 < .04, so it has not recovered
  const r = [0.02, -0.01, 0.03, -0.02, 0.01, -0.03, 0.02, 0, 0.01];
  const cum = [0];
  for (const x of r) cum.push(cum[cum.length - 1]! + x);
  const prices = cum.map((c) => 100 * Math.exp(c));

  it('has 10 points and the chosen log returns', () => {
    expect(prices).toHaveLength(10);
    for (const [i, x] of logReturns(prices).entries()) near(x, r[i]!);
  });

  it('realised volatility 0.02 per day, 0.02 × √252 a year', () => {
    near(realisedVolatility(prices, 1)!, 0.02);
    near(realisedVolatility(prices)!, 0.02 * Math.sqrt(252));
    near(realisedVolatility(prices)!, 0.31749015732775);
  });

  it('maximum drawdown 1 − e^−0.04 from day 3 to day 6, not recovered', () => {
    const m = maxDrawdown(daily(prices));
    near(m.maxDrawdown, 1 - Math.exp(-0.04));
    near(m.maxDrawdown, 0.039210560847677);
    expect(m).toMatchObject({ peakAt: T0 + 3 * DAY, troughAt: T0 + 6 * DAY, recoveredAt: null });
  });

  it('an investor who deposits along the way has the same TWR index and drawdown as the price', () => {
    // holds units of the series: 10 units, buys 5 more on day 2 and sells 8 on day 7; the
    // valuation is taken before each flow, as timeWeightedIndex expects
    let units = 10;
    const valuations = [];
    const flows = [];
    for (let i = 0; i < prices.length; i++) {
      valuations.push({ t: T0 + i * DAY, value: units * prices[i]! });
      const traded = i === 2 ? 5 : i === 7 ? -8 : 0;
      if (traded !== 0) flows.push({ t: T0 + i * DAY, amount: traded * prices[i]! });
      units += traded;
    }
    const idx = timeWeightedIndex(valuations, flows);
    for (const [i, p] of idx.entries()) near(p.value, prices[i]! / 100);
    near(maxDrawdown(idx).maxDrawdown, 1 - Math.exp(-0.04));
    // whereas the raw valuations, swollen by the deposit and cut by the withdrawal, mislead
    expect(maxDrawdown(valuations).maxDrawdown).toBeGreaterThan(0.5);
  });
});
