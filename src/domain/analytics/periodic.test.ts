import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cagr, cumulativeReturns, monthlyReturns, rollingVolatility, yearlyReturns } from './periodic.ts';

const at = (d: string) => Date.parse(`${d}T00:00:00Z`);

describe('monthlyReturns and yearlyReturns', () => {
  it('compounds each month from the last value of the month before', () => {
    const points = [
      { t: at('2024-01-15'), value: 100 },
      { t: at('2024-01-31'), value: 110 },
      { t: at('2024-02-10'), value: 99 },
      { t: at('2024-02-29'), value: 121 },
      { t: at('2024-04-02'), value: 110 },
      { t: at('2025-01-02'), value: 132 },
    ];
    expect(monthlyReturns(points)).toEqual([
      { period: '2024-01', return: expect.closeTo(0.1, 12) },
      { period: '2024-02', return: expect.closeTo(0.1, 12) },
      { period: '2024-04', return: expect.closeTo(110 / 121 - 1, 12) },
      { period: '2025-01', return: expect.closeTo(0.2, 12) },
    ]);
    expect(yearlyReturns(points)).toEqual([
      { period: '2024', return: expect.closeTo(0.1, 12) },
      { period: '2025', return: expect.closeTo(0.2, 12) },
    ]);
  });

  it('months compound to the whole return (property)', () => {
    const series = fc
      .array(
        fc.record({
          gap: fc.integer({ min: 1, max: 40 }),
          value: fc.double({ min: 1, max: 1000, noNaN: true }),
        }),
        {
          minLength: 1,
          maxLength: 200,
        },
      )
      .map((steps) => {
        let t = at('2020-01-01');
        return steps.map((s) => {
          t += s.gap * 86_400_000;
          return { t, value: s.value };
        });
      });
    fc.assert(
      fc.property(series, (points) => {
        const total = points[points.length - 1]!.value / points[0]!.value;
        const months = monthlyReturns(points).reduce((a, m) => a * (1 + m.return), 1);
        const years = yearlyReturns(points).reduce((a, m) => a * (1 + m.return), 1);
        expect(months).toBeCloseTo(total, 8);
        expect(years).toBeCloseTo(total, 8);
      }),
    );
  });
});

describe('rollingVolatility', () => {
  it('is the annualised sample sd of each trailing window, null before the first full window', () => {
    const r = [0.01, -0.01, 0.02, 0, 0.03];
    const v = rollingVolatility(r, 3, 252);
    expect(v.slice(0, 2)).toEqual([null, null]);
    const sd = (xs: number[]) => {
      const m = xs.reduce((a, b) => a + b, 0) / xs.length;
      return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
    };
    expect(v[2]).toBeCloseTo(sd([0.01, -0.01, 0.02]) * Math.sqrt(252), 12);
    expect(v[4]).toBeCloseTo(sd([0.02, 0, 0.03]) * Math.sqrt(252), 12);
    expect(() => rollingVolatility(r, 1)).toThrow(RangeError);
  });
});

describe('cumulativeReturns and cagr', () => {
  it('measures from the first value', () => {
    expect(cumulativeReturns([100, 110, 99])).toEqual([
      0,
      expect.closeTo(0.1, 12),
      expect.closeTo(-0.01, 12),
    ]);
    expect(
      cagr([
        { t: at('2020-01-01'), value: 100 },
        { t: at('2020-01-01') + 2 * 365.25 * 86_400_000, value: 121 },
      ]),
    ).toBeCloseTo(0.1, 12);
    expect(cagr([{ t: 0, value: 1 }])).toBeNull();
  });
});
