import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buyReservation,
  collarDown,
  collarUp,
  fee,
  MAX_NOTIONAL,
  mulDivFloor,
  outsideBand,
} from './arith.ts';

describe('integer money arithmetic', () => {
  it('fees round down to the cent', () => {
    expect(fee(10_001, 10)).toBe(10);
    expect(fee(499, 20)).toBe(0);
    expect(fee(500_000, 25)).toBe(1_250);
  });

  it('fees are exact at the largest notional', () => {
    expect(fee(MAX_NOTIONAL, 1_000)).toBe(Number((BigInt(MAX_NOTIONAL) * 1_000n) / 10_000n));
    expect(fee(MAX_NOTIONAL - 1, 999)).toBe(Number((BigInt(MAX_NOTIONAL - 1) * 999n) / 10_000n));
  });

  it('fees are superadditive: a reservation for the whole covers the fees of the parts', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 1_000 }),
        (parts, bps) => {
          const whole = parts.reduce((a, b) => a + b, 0);
          expect(parts.reduce((sum, p) => sum + fee(p, bps), 0)).toBeLessThanOrEqual(fee(whole, bps));
        },
      ),
    );
  });

  it('a buy reserves notional plus fee', () => {
    expect(buyReservation(10, 9_900, 20)).toBe(99_198);
  });

  it('collars round inwards to the tick grid', () => {
    expect(collarUp(10_000, 1_000, 1)).toBe(11_000);
    expect(collarUp(10_001, 1_000, 5)).toBe(11_000); // 11,001.1 → 11,001 → 11,000
    expect(collarDown(10_001, 1_000, 5)).toBe(9_005); // 9,000.9 → 9,001 → 9,005
    expect(collarDown(100, 10_000, 1)).toBe(0);
  });

  it('bands are inclusive at the edge, and 0 disables them', () => {
    expect(outsideBand(10_500, 10_000, 500)).toBe(false);
    expect(outsideBand(10_501, 10_000, 500)).toBe(true);
    expect(outsideBand(9_499, 10_000, 500)).toBe(true);
    expect(outsideBand(1, 10_000, 0)).toBe(false);
  });

  it('mulDivFloor is exact beyond 2^53', () => {
    fc.assert(
      fc.property(
        fc.maxSafeNat(),
        fc.integer({ min: 0, max: 1_000_000_000 }),
        fc.integer({ min: 1, max: 1_000_000_000 }),
        (a, b, c) => {
          expect(mulDivFloor(a, b, c)).toBe(Number((BigInt(a) * BigInt(b)) / BigInt(c)));
        },
      ),
    );
  });
});
