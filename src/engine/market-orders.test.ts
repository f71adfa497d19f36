import { describe, expect, it } from 'vitest';
import { kinds, market, ofType } from './test-kit.ts';

// Reference 10,000 and a 10% collar: market buys trade up to 11,000, market sells down to 9,000.

describe('market orders', () => {
  it('trade inside the collar and cancel the rest with reason collar when liquidity lies beyond it', () => {
    const m = market();
    m.ok(m.sell(5, 10_500, { account: 'B' })); // 1
    m.ok(m.sell(5, 11_000, { account: 'C' })); // 2
    m.ok(m.sell(5, 11_100, { account: 'B' })); // 3: outside the collar
    const buy = m.order({ orderType: 'market', qty: 12 });
    const events = m.ok(buy);
    expect(kinds(events).slice(0, 8)).toEqual([
      'accepted',
      'trade',
      'fill',
      'fill',
      'trade',
      'fill',
      'fill',
      'canceled',
    ]);
    expect(ofType(events, 'accepted')[0]!.order).toMatchObject({ orderType: 'market', price: 0 });
    // The collar is fixed on entry: the first trade moving the reference to 10,500 does not widen it.
    expect(ofType(events, 'trade').map((t) => [t.price, t.qty])).toEqual([
      [10_500, 5],
      [11_000, 5],
    ]);
    const canceled = ofType(events, 'canceled')[0]!;
    expect(canceled.reason).toBe('collar');
    expect(canceled.order).toMatchObject({ id: 4, filledQty: 10, status: 'canceled' });
    expect(m.cash('A').reserved).toBe(0);
    expect(m.x.depth('ACME', 5).asks).toEqual([{ price: 11_100, qty: 5, orders: 1 }]);
  });

  it('cancel with reason no_liquidity when the other side is empty', () => {
    const m = market();
    const events = m.ok(m.order({ orderType: 'market', side: 'sell', qty: 10 }));
    expect(kinds(events)).toEqual(['accepted', 'canceled']); // reserved and released: no net position change
    expect(ofType(events, 'canceled')[0]!.reason).toBe('no_liquidity');
    expect(m.held('A')).toEqual({ qty: 10_000, reserved: 0, cost: 100_000_000 });
  });

  it('never rest, whatever their time in force', () => {
    const m = market();
    m.ok(m.sell(2, 10_000, { account: 'B' }));
    const events = m.ok(m.order({ orderType: 'market', tif: 'gtc', qty: 5 }));
    expect(ofType(events, 'canceled')[0]).toMatchObject({ reason: 'no_liquidity' });
    expect(m.x.openOrders('A')).toEqual([]);
  });

  it('a market sell trades down to the sell collar', () => {
    const m = market();
    m.ok(m.buy(5, 9_000, { account: 'B' }));
    m.ok(m.buy(5, 8_999, { account: 'C' }));
    const events = m.ok(m.order({ orderType: 'market', side: 'sell', qty: 10 }));
    expect(ofType(events, 'trade').map((t) => t.price)).toEqual([9_000]);
    expect(ofType(events, 'canceled')[0]!.reason).toBe('collar');
  });

  it('a market buy needs cash for its whole quantity at the collar price', () => {
    const m = market({ fund: false });
    m.deposit('D', 110_021); // 10 × 11,000 + floor(110,000 × 0.002) = 110,220
    m.rejects(m.order({ account: 'D', orderType: 'market', qty: 10 }), 'insufficient_funds');
    m.deposit('D', 199);
    m.ok(m.order({ account: 'D', orderType: 'market', qty: 10 }));
  });

  it('the collar follows the last trade price', () => {
    const m = market();
    m.ok(m.sell(1, 10_500, { account: 'B' }));
    m.ok(m.buy(1, 10_500, { account: 'C' })); // last = 10,500: buy collar 11,550
    m.ok(m.sell(5, 11_550, { account: 'B' }));
    const events = m.ok(m.order({ orderType: 'market', qty: 5 }));
    expect(ofType(events, 'trade').map((t) => t.price)).toEqual([11_550]);
  });

  it('a market FOK is all or nothing inside the collar', () => {
    const m = market();
    m.ok(m.sell(5, 10_500, { account: 'B' }));
    m.ok(m.sell(5, 11_500, { account: 'B' }));
    m.rejects(m.order({ orderType: 'market', tif: 'fok', qty: 6 }), 'fok_not_fillable');
    const events = m.ok(m.order({ orderType: 'market', tif: 'fok', qty: 5 }));
    expect(ofType(events, 'fill')[1]!.order.status).toBe('filled');
  });
});
