import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { drawdownSeries, maxDrawdown } from './drawdown.ts';

const series = (values: number[]) => values.map((value, i) => ({ t: 1000 * i, value }));

describe('drawdown', () => {
  it('hand-computed: peak 120, trough 90, recovered at 125', () => {
    // 100 → 120 (peak, t 1000) → 90 (−25 %, t 3000) → 125 (back above 120 at t 5000)
    const pts = series([100, 120, 100, 90, 110, 125, 118]);
    expect(maxDrawdown(pts)).toEqual({ maxDrawdown: 0.25, peakAt: 1000, troughAt: 3000, recoveredAt: 5000 });
    expect(drawdownSeries(pts).map((p) => p.drawdown)).toEqual([
      0,
      0,
      1 - 100 / 120,
      0.25,
      1 - 110 / 120,
      0,
      1 - 118 / 125,
    ]);
  });

  it('edge cases: empty, rising, equal highs, total loss, zero start', () => {
    const none = { maxDrawdown: 0, peakAt: null, troughAt: null, recoveredAt: null };
    expect(maxDrawdown([])).toEqual(none);
    expect(maxDrawdown(series([1, 2, 2, 3]))).toEqual(none);
    // the peak is the latest time at the high-water mark; the trough the first time at the low
    expect(maxDrawdown(series([10, 10, 5, 5, 10]))).toEqual({
      maxDrawdown: 0.5,
      peakAt: 1000,
      troughAt: 2000,
      recoveredAt: 4000,
    });
    expect(maxDrawdown(series([10, 0]))).toEqual({
      maxDrawdown: 1,
      peakAt: 0,
      troughAt: 1000,
      recoveredAt: null,
    });
    expect(drawdownSeries(series([0, 0, 4, 2])).map((p) => p.drawdown)).toEqual([0, 0, 0, 0.5]);
    expect(() => maxDrawdown(series([1, -1]))).toThrow(/value 1/);
    expect(() =>
      drawdownSeries([
        { t: 2, value: 1 },
        { t: 1, value: 1 },
      ]),
    ).toThrow(/time order/);
  });

  it('agrees with a brute force over all (peak, trough) pairs', () => {
    const value = fc.oneof(fc.double({ min: 0, max: 1000, noNaN: true }), fc.integer({ min: 0, max: 5 }));
    fc.assert(
      fc.property(fc.array(value, { maxLength: 60 }), (values) => {
        const pts = series(values);
        // dd[j] = max over i ≤ j of 1 − v[j] / v[i]
        const dd = values.map((vj, j) =>
          Math.max(0, ...values.slice(0, j + 1).map((vi) => (vi > 0 ? 1 - vj / vi : 0))),
        );
        expect(drawdownSeries(pts)).toEqual(pts.map((p, j) => ({ t: p.t, drawdown: dd[j] })));

        const worst = Math.max(0, ...dd);
        const got = maxDrawdown(pts);
        expect(got.maxDrawdown).toBe(worst);
        if (worst === 0) {
          expect(got).toEqual({ maxDrawdown: 0, peakAt: null, troughAt: null, recoveredAt: null });
          return;
        }
        const trough = dd.indexOf(worst);
        const peakValue = Math.max(...values.slice(0, trough + 1));
        const peak = values.slice(0, trough + 1).lastIndexOf(peakValue);
        const recovered = values.findIndex((v, k) => k > trough && v >= peakValue);
        expect(got).toEqual({
          maxDrawdown: worst,
          peakAt: pts[peak]!.t,
          troughAt: pts[trough]!.t,
          recoveredAt: recovered === -1 ? null : pts[recovered]!.t,
        });
      }),
    );
  });
});
