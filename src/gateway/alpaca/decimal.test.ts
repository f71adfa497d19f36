import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assetUuid, orderIdOf, orderUuid } from '../../domain/alpaca-ids.ts';
import { GatewayError } from '../problems.ts';
import {
  formatBpsPercent,
  formatCents,
  formatRatioCents,
  parsePercentBps,
  parsePrice,
  parseQty,
} from './decimal.ts';

const refusal = (fn: () => unknown): { field: string } | undefined => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    const p = (err as GatewayError).problem;
    expect(p.status).toBe(422);
    return p.errors?.[0];
  }
  return undefined;
};

describe('decimal strings at the edge', () => {
  it('parses prices exactly, from strings and numbers, never rounding', () => {
    expect(parsePrice('187.25', 'limit_price')).toBe(18_725);
    expect(parsePrice(187.25, 'limit_price')).toBe(18_725);
    expect(parsePrice('0.01', 'limit_price')).toBe(1);
    expect(parsePrice('5', 'limit_price')).toBe(500);
    expect(parsePrice('1.500', 'limit_price')).toBe(150); // trailing zeros are exact
    for (const bad of [
      '1.005',
      '0.001',
      1.005,
      '-1',
      '0',
      '0.00',
      'abc',
      '1e3',
      '',
      ' ',
      '1,5',
      '100000000.01',
    ]) {
      expect(refusal(() => parsePrice(bad, 'limit_price'))).toMatchObject({ field: 'limit_price' });
    }
  });

  it('parses whole share quantities only', () => {
    expect(parseQty('10', 'qty')).toBe(10);
    expect(parseQty(10, 'qty')).toBe(10);
    expect(parseQty('10.0', 'qty')).toBe(10);
    for (const bad of ['1.5', 0.5, '0', '-3', -3, '1e3', 'ten', '1000000001']) {
      expect(refusal(() => parseQty(bad, 'qty'))).toMatchObject({ field: 'qty' });
    }
  });

  it('formats cents and ratios', () => {
    expect(formatCents(18_725)).toBe('187.25');
    expect(formatCents(5)).toBe('0.05');
    expect(formatCents(-5)).toBe('-0.05');
    expect(formatRatioCents(50_515, 5)).toBe('101.03');
    expect(formatRatioCents(10_001, 3)).toBe('33.3367');
    expect(formatRatioCents(9_000_000_000_000_000, 90_000_000)).toBe('1000000.00');
  });

  it('round-trips every price string it accepts', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000_000_000 }), (cents) => {
        expect(parsePrice(formatCents(cents), 'p')).toBe(cents);
      }),
    );
  });
});

describe('ids in Alpaca shapes', () => {
  it('maps order ids to UUIDs and back, for every safe id', () => {
    expect(orderUuid(1234)).toBe('b0a5e000-0000-4000-8000-0000000004d2');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (id) => {
        const uuid = orderUuid(id);
        expect(uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-8[0-9a-f]{3}-[0-9a-f]{12}$/);
        expect(orderIdOf(uuid)).toBe(id);
      }),
    );
    expect(orderIdOf('123e4567-e89b-42d3-a456-426614174000')).toBeNull();
    expect(orderIdOf('b0a5e000-0000-4000-8000-000000000000')).toBeNull();
  });

  it('gives each symbol a stable v5 asset id', () => {
    expect(assetUuid('AAPL')).toBe(assetUuid('AAPL'));
    expect(assetUuid('AAPL')).not.toBe(assetUuid('MSFT'));
    expect(assetUuid('AAPL')).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('reads trail_percent as basis points exactly, and writes them back as a percent', () => {
    expect(parsePercentBps('1.5', 'trail_percent')).toBe(150);
    expect(parsePercentBps(2, 'trail_percent')).toBe(200);
    expect(parsePercentBps('0.01', 'trail_percent')).toBe(1);
    for (const bad of ['0', '0.001', '100', '-1', 'x']) {
      expect(refusal(() => parsePercentBps(bad, 'trail_percent'))?.field).toBe('trail_percent');
    }
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 9_999 }), (bps) => {
        expect(parsePercentBps(formatBpsPercent(bps), 'trail_percent')).toBe(bps);
      }),
    );
  });
});
