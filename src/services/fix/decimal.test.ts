import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixTimestamp, formatAvgPx, formatCents, MAX_PRICE_CENTS, parsePrice, parseQty } from './decimal.ts';

describe('FIX decimals ↔ integer cents', () => {
  it('reads prices exactly and refuses what is off the cent grid, never rounding', () => {
    expect(parsePrice('187.25')).toEqual({ ok: true, value: 18_725 });
    expect(parsePrice('187.250000')).toEqual({ ok: true, value: 18_725 });
    expect(parsePrice('5')).toEqual({ ok: true, value: 500 });
    expect(parsePrice('99.505')).toMatchObject({ ok: false, malformed: false });
    expect(parsePrice('0.001')).toMatchObject({ ok: false, malformed: false });
    expect(parsePrice('0')).toMatchObject({ ok: false, malformed: false });
    for (const bad of ['abc', '-1', '1e3', '', '1,5', ' 1', '.5']) {
      expect(parsePrice(bad)).toMatchObject({ ok: false, malformed: true });
    }
  });

  it('round-trips every price in range, and refuses every sub-cent one (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX_PRICE_CENTS }), (cents) => {
        expect(parsePrice(formatCents(cents))).toEqual({ ok: true, value: cents });
      }),
    );
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 99 }),
        (whole, subCent, cents) => {
          const text = `${whole}.${String(cents).padStart(2, '0')}${subCent}`;
          expect(parsePrice(text)).toMatchObject({ ok: false, malformed: false });
        },
      ),
    );
  });

  it('reads whole-share quantities only', () => {
    expect(parseQty('10')).toEqual({ ok: true, value: 10 });
    expect(parseQty('10.000')).toEqual({ ok: true, value: 10 });
    expect(parseQty('10.5')).toMatchObject({ ok: false, malformed: false });
    expect(parseQty('0')).toMatchObject({ ok: false, malformed: false });
    expect(parseQty('ten')).toMatchObject({ ok: false, malformed: true });
  });

  it('states average prices exactly to six decimals (property)', () => {
    expect(formatAvgPx(0, 0)).toBe('0');
    expect(formatAvgPx(100_300, 10)).toBe('100.30');
    expect(formatAvgPx(1_000_001, 3)).toBe('3333.336667');
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        (px, qty) => {
          // every fill at one price: the average is that price, whatever the quantity
          expect(formatAvgPx(px * qty, qty)).toBe(formatCents(px));
        },
      ),
    );
  });

  it('writes UTCTimestamp with milliseconds', () => {
    expect(fixTimestamp(Date.UTC(2026, 10, 27, 14, 30, 5, 123))).toBe('20261127-14:30:05.123');
  });
});
