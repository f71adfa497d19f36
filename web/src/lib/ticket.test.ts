import { describe, expect, it } from 'vitest';
import { centsToDecimal, toCents } from './money.ts';
import { checkTicket, parsePrice, type TicketInput } from './ticket.ts';

const base: TicketInput = {
  symbol: 'AAPL',
  side: 'buy',
  type: 'limit',
  tif: 'day',
  qty: '10',
  limitPrice: '100.00',
  stopPrice: '',
};
const ctx = {
  buyingPowerCents: null,
  availableShares: null,
  lastCents: null,
  bidCents: null,
  askCents: null,
};

describe('ticket rules', () => {
  it('parses prices on the grid, keeps trailing zeros, refuses the rest', () => {
    expect(parsePrice('187.25', 'P')).toEqual({ cents: 18725 });
    expect(parsePrice('187.250', 'P')).toEqual({ cents: 18725 });
    expect(parsePrice('187', 'P')).toEqual({ cents: 18700 });
    expect(parsePrice('187.251', 'P')).toHaveProperty('error');
    expect(parsePrice('1e3', 'P')).toHaveProperty('error');
    expect(parsePrice(' ', 'P')).toEqual({ error: 'P is required' });
  });

  it('builds the API body only when everything is valid', () => {
    expect(checkTicket(base, ctx).body).toEqual({
      symbol: 'AAPL',
      qty: '10',
      side: 'buy',
      type: 'limit',
      time_in_force: 'day',
      limit_price: '100.00',
    });
    expect(checkTicket({ ...base, type: 'stop', stopPrice: '95.5' }, ctx).body).toMatchObject({
      stop_price: '95.50',
    });
    expect(checkTicket({ ...base, type: 'stop' }, ctx).errors.stop_price).toBe('Stop price is required');
    expect(checkTicket({ ...base, qty: '10.0' }, ctx).body).toBeNull();
  });

  it('wants a buy stop-limit limit at or above its stop', () => {
    const r = checkTicket({ ...base, type: 'stop_limit', stopPrice: '101.00', limitPrice: '100.00' }, ctx);
    expect(r.errors.limit_price).toBe('A buy stop-limit needs limit price ≥ stop price');
  });

  it('a market order is estimated at the opposite best price, as a taker', () => {
    const r = checkTicket(
      { ...base, type: 'market', side: 'sell' },
      { ...ctx, bidCents: 99_95, askCents: 100_05 },
    );
    expect(r.estimate).toEqual({
      priceCents: 99_95,
      notionalCents: 999_50,
      liquidity: 'taker',
      feeCents: 29,
      totalCents: 999_21,
    });
  });

  it('money helpers round-trip decimal strings', () => {
    expect(toCents('-3.5')).toBe(-350);
    expect(toCents('1234.56')).toBe(123456);
    expect(centsToDecimal(123456)).toBe('1234.56');
    expect(centsToDecimal(-5)).toBe('-0.05');
  });
});
