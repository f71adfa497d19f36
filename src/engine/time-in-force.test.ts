import { describe, expect, it } from 'vitest';
import { kinds, market, ofType } from './test-kit.ts';

describe('time in force', () => {
  it('IOC trades what it can and cancels the rest', () => {
    const m = market();
    m.ok(m.sell(4, 10_000, { account: 'B' }));
    const events = m.ok(m.buy(10, 10_000, { tif: 'ioc' }));
    expect(ofType(events, 'trade')[0]!.qty).toBe(4);
    expect(ofType(events, 'canceled')[0]).toMatchObject({ reason: 'ioc_remainder', order: { filledQty: 4 } });
    expect(m.x.depth('ACME', 5)).toEqual({ symbol: 'ACME', bids: [], asks: [] });
    expect(m.cash('A').reserved).toBe(0);
  });

  it('IOC with nothing to take is accepted and cancelled', () => {
    const m = market();
    const events = m.ok(m.buy(10, 10_000, { tif: 'ioc' }));
    expect(kinds(events)).toEqual(['accepted', 'canceled']);
  });

  it('FOK fills completely at once', () => {
    const m = market();
    m.ok(m.sell(4, 10_000, { account: 'B' }));
    m.ok(m.sell(6, 10_010, { account: 'C' }));
    const events = m.ok(m.buy(10, 10_010, { tif: 'fok' }));
    expect(ofType(events, 'trade').map((t) => t.qty)).toEqual([4, 6]);
    expect(ofType(events, 'canceled')).toEqual([]);
  });

  it('FOK that cannot fill completely is rejected and changes nothing', () => {
    const m = market();
    m.ok(m.sell(4, 10_000, { account: 'B' }));
    m.ok(m.sell(6, 10_020, { account: 'C' }));
    m.rejects(m.buy(10, 10_010, { tif: 'fok' }), 'fok_not_fillable');
  });

  it('FOK does not count own orders that self-trade prevention would cancel', () => {
    const m = market();
    m.ok(m.sell(5, 10_000)); // A's own
    m.ok(m.sell(5, 10_000, { account: 'B' }));
    m.rejects(m.buy(10, 10_000, { tif: 'fok' }), 'fok_not_fillable');
    m.ok(m.buy(10, 10_000, { tif: 'fok', selfTradePrevention: 'allow' }));
  });

  it('DAY orders expire at the close, GTC orders stay', () => {
    const m = market();
    m.ok(m.buy(10, 9_900, { tif: 'day' })); // 1
    m.ok(m.buy(10, 9_800, { tif: 'gtc' })); // 2
    m.ok(m.sell(10, 10_100, { tif: 'day', account: 'B' })); // 3
    const events = m.ok({ type: 'session', ts: ++m.ts, state: 'closed' });
    expect(kinds(events)).toEqual([
      'session',
      'expired',
      'expired',
      'book_changed',
      'book_changed',
      'balance',
      'position',
    ]);
    expect(ofType(events, 'expired').map((e) => [e.order.id, e.order.status])).toEqual([
      [1, 'expired'],
      [3, 'expired'],
    ]);
    expect(m.cash('A').reserved).toBe(98_000 + 196);
    expect(m.held('B').reserved).toBe(0);
    expect(m.x.depth('ACME', 5).bids).toEqual([{ price: 9_800, qty: 10, orders: 1 }]);
  });
});

describe('post-only', () => {
  it('rests when it would not trade', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' }));
    const events = m.ok(m.buy(5, 9_999, { postOnly: true }));
    expect(ofType(events, 'accepted')[0]!.order.postOnly).toBe(true);
  });

  it('is rejected when it would take', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' }));
    m.rejects(m.buy(5, 10_000, { postOnly: true }), 'post_only_would_take');
  });

  it('is re-checked on a replace that moves its price', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 1
    m.ok(m.buy(5, 9_990, { postOnly: true })); // 2
    m.rejects({ type: 'replace', ts: 1, id: 2, account: 'A', price: 10_000 }, 'post_only_would_take');
    m.ok({ type: 'replace', ts: 1, id: 2, account: 'A', price: 9_995 });
  });
});
