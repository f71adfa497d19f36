import { describe, expect, it } from 'vitest';
import { FEES, market, ofType } from './test-kit.ts';

describe('self-trade prevention', () => {
  it('cancel_resting (the default) cancels the own resting order and keeps matching', () => {
    const m = market();
    m.ok(m.sell(5, 10_000)); // 1: A's own
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 2
    const events = m.ok(m.buy(8, 10_000)); // 3
    expect(ofType(events, 'canceled')).toMatchObject([{ reason: 'self_trade', order: { id: 1 } }]);
    expect(ofType(events, 'trade').map((t) => [t.sellOrderId, t.qty])).toEqual([[2, 5]]);
    expect(m.x.depth('ACME', 5).bids).toEqual([{ price: 10_000, qty: 3, orders: 1 }]);
    expect(m.held('A').reserved).toBe(0);
  });

  it('cancel_incoming cancels the incoming remainder and leaves the resting order', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 1
    m.ok(m.sell(5, 10_000)); // 2: A's own, behind B
    const events = m.ok(m.buy(8, 10_000, { selfTradePrevention: 'cancel_incoming' })); // 3
    expect(ofType(events, 'trade').map((t) => t.qty)).toEqual([5]);
    expect(ofType(events, 'canceled')).toMatchObject([
      { reason: 'self_trade', order: { id: 3, filledQty: 5 } },
    ]);
    expect(m.x.order(2)).toMatchObject({ status: 'new' });
  });

  it('cancel_both cancels both', () => {
    const m = market();
    m.ok(m.sell(5, 10_000)); // 1
    const events = m.ok(m.buy(8, 10_000, { selfTradePrevention: 'cancel_both' })); // 2
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([
      [1, 'self_trade'],
      [2, 'self_trade'],
    ]);
    expect(m.x.openOrders('A')).toEqual([]);
  });

  it('allow trades with itself: the account pays both fees', () => {
    const m = market({ config: { selfTradePrevention: 'allow' } });
    m.ok(m.sell(5, 10_000)); // maker fee 50
    m.ok(m.buy(5, 10_000)); // taker fee 100
    expect(m.cash('A')).toEqual({ cash: 100_000_000 - 150, reserved: 0 });
    expect(m.cash(FEES).cash).toBe(150);
    // sold first (cost −50,000), then bought back (cost +50,100)
    expect(m.held('A')).toEqual({ qty: 10_000, reserved: 0, cost: 100_000_100 });
  });

  it('a per-order mode overrides the exchange default', () => {
    const m = market({ config: { selfTradePrevention: 'allow' } });
    m.ok(m.sell(5, 10_000));
    const events = m.ok(m.buy(5, 10_000, { selfTradePrevention: 'cancel_resting' }));
    expect(ofType(events, 'trade')).toEqual([]);
    expect(ofType(events, 'canceled')[0]!.reason).toBe('self_trade');
  });
});
