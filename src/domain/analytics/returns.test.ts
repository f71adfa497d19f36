import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  beta,
  correlation,
  correlationMatrix,
  logReturns,
  realisedVolatility,
  simpleReturns,
} from './returns.ts';

function close(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(1, Math.abs(a), Math.abs(b));
}

// brute force: the textbook single-pass-per-quantity formulas, written independently
const avg = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const cov = (a: number[], b: number[]) => {
  const ma = avg(a);
  const mb = avg(b);
  return a.reduce((s, x, i) => s + (x - ma) * (b[i]! - mb), 0) / (a.length - 1);
};
const sd = (xs: number[]) => Math.sqrt(cov(xs, xs));

const price = fc.double({ min: 1, max: 10_000, noNaN: true });
const ret = fc.double({ min: -0.5, max: 0.5, noNaN: true });
const pairs = (minLength: number) =>
  fc
    .integer({ min: minLength, max: 60 })
    .chain((n) =>
      fc.tuple(fc.array(ret, { minLength: n, maxLength: n }), fc.array(ret, { minLength: n, maxLength: n })),
    );
/** spread well above float noise, so that brute force and the function both see real variance */
const varied = (xs: number[]) => Math.max(...xs) - Math.min(...xs) > 1e-6;

describe('returns', () => {
  it('hand-computed simple and log returns', () => {
    expect(simpleReturns([100, 110, 99])).toEqual([0.10000000000000009, -0.09999999999999998]);
    const r = simpleReturns([100, 110, 99]);
    expect(close(r[0]!, 0.1) && close(r[1]!, -0.1)).toBe(true);
    const l = logReturns([100, 200, 100]);
    expect(close(l[0]!, Math.LN2) && close(l[1]!, -Math.LN2)).toBe(true);
    expect(simpleReturns([5])).toEqual([]);
    expect(() => simpleReturns([1, 0, 2])).toThrow(/price 1/);
    expect(() => logReturns([1, Number.NaN])).toThrow(RangeError);
  });

  it('log returns add up to the log of the total move; simple returns compound to it', () => {
    fc.assert(
      fc.property(fc.array(price, { minLength: 2, maxLength: 50 }), (ps) => {
        const total = ps[ps.length - 1]! / ps[0]!;
        expect(
          close(
            logReturns(ps).reduce((s, x) => s + x, 0),
            Math.log(total),
            1e-8,
          ),
        ).toBe(true);
        expect(
          close(
            simpleReturns(ps).reduce((p, r) => p * (1 + r), 1),
            total,
            1e-8,
          ),
        ).toBe(true);
      }),
    );
  });

  it('realised volatility: hand-computed and brute force', () => {
    // log returns ln 2, −ln 2: mean 0, sample var 2 (ln 2)², sd √2 ln 2; × √252
    expect(close(realisedVolatility([100, 200, 100])!, Math.SQRT2 * Math.LN2 * Math.sqrt(252))).toBe(true);
    expect(close(realisedVolatility([100, 200, 100], 12)!, Math.SQRT2 * Math.LN2 * Math.sqrt(12))).toBe(true);
    expect(realisedVolatility([100, 101])).toBeNull();
    expect(realisedVolatility([100, 100, 100])).toBe(0);
    fc.assert(
      fc.property(
        fc.array(price, { minLength: 3, maxLength: 60 }),
        fc.integer({ min: 1, max: 400 }),
        (ps, ppy) => {
          const lr = ps.slice(1).map((p, i) => Math.log(p / ps[i]!));
          fc.pre(varied(lr));
          expect(close(realisedVolatility(ps, ppy)!, sd(lr) * Math.sqrt(ppy), 1e-7)).toBe(true);
        },
      ),
    );
  });

  it('beta and correlation: hand-computed', () => {
    // b = 1, 2, 3; a = 2b: beta 2, correlation 1; a = −b + noise-free: correlation −1
    expect(close(beta([2, 4, 6], [1, 2, 3])!, 2)).toBe(true);
    expect(correlation([2, 4, 6], [1, 2, 3])).toBe(1);
    expect(correlation([3, 2, 1], [1, 2, 3])).toBe(-1);
    // a = 1, 0, 1, 0 vs b = 1, 1, 0, 0: deviations ±0.5, Σ dadb = 0 → uncorrelated
    expect(correlation([1, 0, 1, 0], [1, 1, 0, 0])).toBe(0);
    expect(beta([1, 2], [5, 5])).toBeNull();
    expect(correlation([1, 2, 3], [7, 7, 7])).toBeNull();
    expect(correlation([1], [2])).toBeNull();
    expect(() => beta([1, 2], [1, 2, 3])).toThrow(/lengths/);
  });

  it('beta and correlation agree with brute force and stay in range', () => {
    fc.assert(
      fc.property(pairs(2), ([a, b]) => {
        fc.pre(varied(a) && varied(b));
        expect(close(beta(a, b)!, cov(a, b) / cov(b, b), 1e-6)).toBe(true);
        const r = correlation(a, b)!;
        expect(close(r, cov(a, b) / (sd(a) * sd(b)), 1e-6)).toBe(true);
        expect(Math.abs(r)).toBeLessThanOrEqual(1);
        expect(close(correlation(b, a)!, r, 1e-12)).toBe(true);
      }),
    );
  });

  it('correlation matrix is symmetric with a unit diagonal and the pairwise values', () => {
    expect(correlationMatrix({ A: [1, 2, 3], B: [3, 2, 1], C: [4, 4, 4] })).toEqual({
      A: { A: 1, B: -1, C: null },
      B: { A: -1, B: 1, C: null },
      C: { A: null, B: null, C: null },
    });
    expect(() => correlationMatrix({ A: [1, 2], B: [1] })).toThrow(/lengths/);
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }).chain((n) =>
          fc.dictionary(
            fc.string({ minLength: 1, maxLength: 4 }),
            fc.array(ret, { minLength: n, maxLength: n }),
            {
              maxKeys: 5,
            },
          ),
        ),
        (series) => {
          const m = correlationMatrix(series);
          const names = Object.keys(series);
          expect(Object.keys(m)).toEqual(names);
          for (const a of names) {
            for (const b of names) {
              expect(m[a]![b]).toBe(m[b]![a]);
              if (a !== b) expect(m[a]![b]).toBe(correlation(series[a]!, series[b]!));
            }
            expect(m[a]![a]).toBe(correlation(series[a]!, series[a]!) === null ? null : 1);
          }
        },
      ),
    );
  });
});
