import { describe, expect, it } from 'vitest';
import type { NewOrderCommand } from '../domain/exchange.ts';
import { FEES, kinds, market, ofType } from './test-kit.ts';

describe('order validation', () => {
  it('prices must be on the tick grid, never rounded', () => {
    const m = market({ spec: { tickSize: 5 } });
    m.rejects(m.buy(10, 9_902), 'off_tick');
    m.rejects(m.order({ orderType: 'stop', stopPrice: 10_502 }), 'off_tick');
    m.ok(m.buy(10, 9_905));
  });

  it('quantities must be whole lots within min and max', () => {
    const m = market({ spec: { lotSize: 10, minQty: 20, maxQty: 1_000 } });
    m.rejects(m.buy(15, 9_900), 'off_lot');
    m.rejects(m.buy(10, 9_900), 'below_min_qty');
    m.rejects(m.buy(1_010, 9_900), 'above_max_qty');
    m.ok(m.buy(20, 9_900));
  });

  it('malformed quantities and prices are refused', () => {
    const m = market();
    m.rejects(m.buy(0, 9_900), 'invalid_quantity');
    m.rejects(m.buy(-5, 9_900), 'invalid_quantity');
    m.rejects(m.buy(1.5, 9_900), 'invalid_quantity');
    m.rejects(m.buy(10, 0), 'invalid_price');
    m.rejects(m.buy(10, 99.5), 'invalid_price');
    m.rejects(m.order({ orderType: 'limit' }), 'invalid_price'); // no price
    m.rejects(m.order({ orderType: 'stop_limit', price: 10_000 }), 'invalid_price'); // no stop price
    m.rejects(m.order({ side: 'up' } as unknown as Partial<NewOrderCommand>), 'invalid_quantity');
  });

  it('a limit price must be within the band around the reference price', () => {
    const m = market({ spec: { priceBandBps: 500 } });
    m.rejects(m.buy(1, 10_501), 'outside_price_band');
    m.rejects(m.sell(1, 9_499), 'outside_price_band');
    m.rejects(m.order({ orderType: 'stop_limit', stopPrice: 10_000, price: 10_600 }), 'outside_price_band');
    m.ok(m.buy(1, 10_500));
    m.ok(m.sell(1, 9_500, { account: 'B' })); // trades at 10,500: the band now centres there
    m.ok(m.buy(1, 11_025));
    m.rejects(m.buy(1, 11_026), 'outside_price_band');
  });

  it('unknown symbols and accounts, reused ids and the fee account are refused', () => {
    const m = market();
    m.rejects(m.order({ symbol: 'NOPE', price: 1 }), 'unknown_symbol');
    m.rejects(m.order({ account: 'Z', price: 9_900 }), 'unknown_account');
    m.rejects(m.order({ account: FEES, price: 9_900 }), 'unknown_account');
    m.ok(m.buy(1, 9_900, { id: 10 }));
    m.rejects(m.buy(1, 9_900, { id: 10 }), 'duplicate_order_id');
    m.rejects(m.buy(1, 9_900, { id: 7 }), 'duplicate_order_id');
    m.ok(m.buy(1, 9_900, { id: 11 }));
  });

  it('a rejected order does not use up its id', () => {
    const m = market();
    m.rejects(m.buy(1, 0, { id: 5 }), 'invalid_price');
    m.ok(m.buy(1, 9_900, { id: 5 }));
  });
});

describe('halts', () => {
  it('a symbol halt stops new orders and replaces, not cancels', () => {
    const m = market();
    m.ok(m.buy(10, 9_900)); // 1
    expect(m.ok({ type: 'halt', ts: 1, symbol: 'ACME', halted: true })).toEqual([
      { type: 'halt', symbol: 'ACME', halted: true },
    ]);
    m.rejects(m.buy(10, 9_800), 'symbol_halted');
    m.rejects({ type: 'replace', ts: 1, id: 1, account: 'A', price: 9_800 }, 'symbol_halted');
    m.ok({ type: 'cancel', ts: 1, id: 1, account: 'A' });
    m.ok({ type: 'halt', ts: 1, symbol: 'ACME', halted: false });
    m.ok(m.buy(10, 9_800));
    expect(m.x.instrument('ACME')!.halted).toBe(false);
  });

  it('a market-wide halt stops every symbol', () => {
    const m = market();
    m.ok({ type: 'halt', ts: 1, symbol: null, halted: true });
    expect(m.x.marketHalted()).toBe(true);
    m.rejects(m.buy(10, 9_800), 'market_halted');
    m.rejects({ type: 'halt', ts: 1, symbol: 'NOPE', halted: true }, 'unknown_symbol');
  });
});

describe('sessions', () => {
  it('start open', () => {
    expect(market().x.session()).toBe('open');
  });

  it('pre-open takes non-crossing day/gtc limits and cancels, nothing that could trade', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 1
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_500, qty: 1 })); // 2
    m.ok({ type: 'session', ts: 1, state: 'pre_open' });
    m.ok(m.buy(5, 9_900, { tif: 'day' })); // 3
    m.rejects(m.buy(5, 10_000), 'not_allowed_pre_open');
    m.rejects(m.buy(5, 9_900, { tif: 'ioc' }), 'not_allowed_pre_open');
    m.rejects(m.buy(5, 9_900, { tif: 'fok' }), 'not_allowed_pre_open');
    m.rejects(m.order({ orderType: 'market' }), 'not_allowed_pre_open');
    m.rejects(m.order({ orderType: 'stop', stopPrice: 10_500 }), 'not_allowed_pre_open');
    m.rejects({ type: 'replace', ts: 1, id: 3, account: 'A', price: 10_000 }, 'not_allowed_pre_open');
    m.rejects({ type: 'replace', ts: 1, id: 2, account: 'A', stopPrice: 10_400 }, 'not_allowed_pre_open');
    m.ok({ type: 'replace', ts: 1, id: 3, account: 'A', price: 9_950 });
    m.ok({ type: 'cancel', ts: 1, id: 3, account: 'A' });
  });

  it('closed refuses new orders and replaces, and expires DAY orders on the way', () => {
    const m = market();
    m.ok(m.buy(5, 9_900, { tif: 'day' })); // 1
    m.ok(m.buy(5, 9_800, { tif: 'gtc' })); // 2
    const events = m.ok({ type: 'session', ts: 1, state: 'closed' });
    expect(kinds(events).slice(0, 2)).toEqual(['session', 'expired']);
    m.rejects(m.buy(5, 9_900), 'market_closed');
    m.rejects({ type: 'replace', ts: 1, id: 2, account: 'A', price: 9_700 }, 'market_closed');
    m.ok({ type: 'cancel', ts: 1, id: 2, account: 'A' });
    m.ok({ type: 'deposit', ts: 1, account: 'A', amount: 1 });
    m.ok({ type: 'session', ts: 1, state: 'open' });
    m.ok(m.buy(5, 9_900));
    expect(ofType(events, 'session')).toEqual([{ type: 'session', state: 'closed' }]);
  });
});
