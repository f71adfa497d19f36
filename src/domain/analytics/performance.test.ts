import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  annualisedVolatility,
  benchmarkComparison,
  type CashFlow,
  sharpeRatio,
  timeWeightedIndex,
  timeWeightedReturn,
  turnover,
  winRate,
} from './performance.ts';

function close(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}
const expectClose = (a: number | null, b: number, tol = 1e-9) => {
  if (a === null || !close(a, b, tol)) expect(a).toBe(b);
};

const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: number[]) => Math.sqrt(xs.reduce((s, x) => s + (x - avg(xs)) ** 2, 0) / (xs.length - 1));
const varied = (xs: number[]) => Math.max(...xs) - Math.min(...xs) > 1e-6;
const ret = fc.double({ min: -0.5, max: 0.5, noNaN: true });

describe('time-weighted return', () => {
  it('hand-computed: a deposit at t starts the next sub-period', () => {
    // 1000 → 1100 (+10 %); then 500 deposited at t 2, so 1600 at work → 1800 (+12.5 %);
    // TWR = 1.1 × 1.125 − 1 = 0.2375, whereas the raw value went up 80 %
    const vals = [
      { t: 1, value: 1000 },
      { t: 2, value: 1100 },
      { t: 3, value: 1800 },
    ];
    const flows = [{ t: 2, amount: 500 }];
    expectClose(timeWeightedReturn(vals, flows), 0.2375);
    const idx = timeWeightedIndex(vals, flows);
    expect(idx.map((p) => p.t)).toEqual([1, 2, 3]);
    expectClose(idx[1]!.value, 1.1);
    expectClose(idx[2]!.value, 1.2375);
    // a withdrawal of 600 instead: 500 at work → 1800 would be +260 %
    expectClose(timeWeightedReturn(vals, [{ t: 2.5, amount: -600 }]), 1.1 * 3.6 - 1);
    // flows outside [first, last) do not matter
    expectClose(
      timeWeightedReturn(vals, [
        { t: 0, amount: 1e6 },
        { t: 3, amount: -1800 },
      ]),
      0.8,
    );
  });

  it('edge cases', () => {
    expect(timeWeightedReturn([], [])).toBeNull();
    expect(timeWeightedReturn([{ t: 1, value: 5 }], [])).toBeNull();
    // everything withdrawn, nothing at work, then a fresh deposit
    expectClose(
      timeWeightedReturn(
        [
          { t: 1, value: 100 },
          { t: 2, value: 110 },
          { t: 3, value: 0 },
          { t: 4, value: 220 },
        ],
        [
          { t: 2, amount: -110 },
          { t: 3, amount: 200 },
        ],
      ),
      1.1 * 1 * 1.1 - 1,
    );
    expect(() =>
      timeWeightedReturn(
        [
          { t: 1, value: 100 },
          { t: 2, value: 50 },
        ],
        [{ t: 1, amount: -200 }],
      ),
    ).toThrow(/starts at -100/);
    expect(() =>
      timeWeightedReturn(
        [
          { t: 2, value: 1 },
          { t: 2, value: 1 },
        ],
        [],
      ),
    ).toThrow(/increasing/);
  });

  it('recovers the chained sub-period returns whatever the flows', () => {
    const sub = fc.record({
      r: ret,
      flow: fc.double({ min: -0.9, max: 3, noNaN: true }),
      pieces: fc.integer({ min: 1, max: 3 }),
      offset: fc.double({ min: 0, max: 0.99, noNaN: true }),
    });
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 1e7, noNaN: true }),
        fc.array(sub, { maxLength: 30 }),
        (v0, subs) => {
          const valuations = [{ t: 0, value: v0 }];
          const flows: CashFlow[] = [{ t: -5, amount: 1234 }]; // before the span: ignored
          subs.forEach(({ r, flow, pieces, offset }, i) => {
            const v = valuations[i]!.value;
            const amount = flow * v;
            // split the flow, at the valuation and in between valuations (attributed to the earlier one)
            for (let k = 0; k < pieces; k++)
              flows.push({ t: i + (k === 0 ? 0 : offset), amount: amount / pieces });
            valuations.push({ t: i + 1, value: (v + amount) * (1 + r) });
          });
          flows.push({ t: subs.length, amount: -1 }); // at the last valuation: ignored
          const growth = subs.map((s) => 1 + s.r);
          const idx = timeWeightedIndex(valuations, flows);
          let expected = 1;
          idx.forEach((p, i) => {
            if (i > 0) expected *= growth[i - 1]!;
            expectClose(p.value, expected, 1e-7);
          });
          if (subs.length > 0) expectClose(timeWeightedReturn(valuations, flows), expected - 1, 1e-7);
        },
      ),
    );
  });
});

describe('risk and trading measures', () => {
  it('annualised volatility: hand-computed and brute force', () => {
    // returns 0.01, 0.03: sample sd √0.0002; × √252
    expectClose(annualisedVolatility([0.01, 0.03]), Math.sqrt(0.0002 * 252));
    expectClose(annualisedVolatility([0.01, 0.03], 12), Math.sqrt(0.0002 * 12));
    expect(annualisedVolatility([0.01])).toBeNull();
    fc.assert(
      fc.property(fc.array(ret, { minLength: 2, maxLength: 60 }), (rs) => {
        fc.pre(varied(rs));
        expectClose(annualisedVolatility(rs), sd(rs) * Math.sqrt(252), 1e-7);
      }),
    );
  });

  it('Sharpe ratio: hand-computed and brute force', () => {
    // mean 0.02, sd √0.0002 → √2 per period → √2 × √252 = √504
    expectClose(sharpeRatio([0.01, 0.03]), Math.sqrt(504));
    // rf with a per-period rate of exactly 1 %: excess 0, 0.02 → mean 0.01 → √504 / 2
    expectClose(sharpeRatio([0.01, 0.03], 1.01 ** 252 - 1), Math.sqrt(504) / 2);
    expect(sharpeRatio([0.01, 0.01, 0.01])).toBeNull();
    expect(sharpeRatio([0.01])).toBeNull();
    expect(() => sharpeRatio([0.01, 0.02], -1)).toThrow(/riskFreeAnnual/);
    fc.assert(
      fc.property(
        fc.array(ret, { minLength: 2, maxLength: 60 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.integer({ min: 1, max: 365 }),
        (rs, rf, ppy) => {
          fc.pre(varied(rs));
          const perPeriod = (1 + rf) ** (1 / ppy) - 1;
          const ex = rs.map((r) => r - perPeriod);
          expectClose(sharpeRatio(rs, rf, ppy), (avg(ex) / sd(ex)) * Math.sqrt(ppy), 1e-6);
        },
      ),
    );
  });

  it('win rate and turnover', () => {
    expect(winRate([100, -50, 0, 20])).toBe(0.5);
    expect(winRate([-1])).toBe(0);
    expect(winRate([])).toBeNull();
    expect(turnover(5_000_000, 2_000_000)).toBe(2.5);
    expect(turnover(0, 2_000_000)).toBe(0);
    expect(turnover(100, 0)).toBeNull();
    expect(() => turnover(-1, 10)).toThrow(/tradedNotional/);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -1e6, max: 1e6 })), (pnls) => {
        const wins = pnls.filter((p) => p > 0).length;
        expect(winRate(pnls)).toBe(pnls.length === 0 ? null : wins / pnls.length);
      }),
    );
  });
});

describe('benchmark comparison', () => {
  it('hand-computed: the portfolio moves exactly twice the benchmark', () => {
    // rp = 0.2, −0.1; rb = 0.1, −0.05 → beta 2, correlation 1; return 8 % vs 4.5 %;
    // differences 0.1, −0.05: sample sd √(2 × 0.075²) = 0.075√2; × √252
    const c = benchmarkComparison([100, 120, 108], [100, 110, 104.5]);
    expectClose(c.portfolioReturn, 0.08);
    expectClose(c.benchmarkReturn, 0.045);
    expectClose(c.excessReturn, 0.035);
    expectClose(c.beta, 2);
    expectClose(c.correlation, 1);
    expectClose(c.trackingError, 0.075 * Math.SQRT2 * Math.sqrt(252));
  });

  it('too short, mismatched', () => {
    expect(benchmarkComparison([100], [50])).toEqual({
      portfolioReturn: null,
      benchmarkReturn: null,
      excessReturn: null,
      beta: null,
      correlation: null,
      trackingError: null,
    });
    expect(() => benchmarkComparison([1, 2], [1])).toThrow(/lengths/);
  });

  it('agrees with brute force', () => {
    fc.assert(
      fc.property(
        fc
          .integer({ min: 3, max: 40 })
          .chain((n) =>
            fc.tuple(
              fc.array(ret, { minLength: n, maxLength: n }),
              fc.array(ret, { minLength: n, maxLength: n }),
            ),
          ),
        ([ra, rb]) => {
          fc.pre(varied(ra) && varied(rb));
          const grow = (rs: number[]) => {
            const ps = [100];
            for (const r of rs) ps.push(ps[ps.length - 1]! * (1 + r));
            return ps;
          };
          const pv = grow(ra);
          const bv = grow(rb);
          const rp = pv.slice(1).map((v, i) => v / pv[i]! - 1);
          const rbb = bv.slice(1).map((v, i) => v / bv[i]! - 1);
          const cov = rp.reduce((s, x, i) => s + (x - avg(rp)) * (rbb[i]! - avg(rbb)), 0) / (rp.length - 1);
          const c = benchmarkComparison(pv, bv);
          expectClose(c.portfolioReturn, pv[pv.length - 1]! / 100 - 1, 1e-7);
          expectClose(c.benchmarkReturn, bv[bv.length - 1]! / 100 - 1, 1e-7);
          expectClose(c.excessReturn, c.portfolioReturn! - c.benchmarkReturn!, 1e-12);
          expectClose(c.beta, cov / sd(rbb) ** 2, 1e-6);
          expectClose(c.correlation, cov / (sd(rp) * sd(rbb)), 1e-6);
          expectClose(c.trackingError, sd(rp.map((r, i) => r - rbb[i]!)) * Math.sqrt(252), 1e-6);
        },
      ),
    );
  });
});
