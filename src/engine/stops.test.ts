import { describe, expect, it } from 'vitest';
import { kinds, market, ofType } from './test-kit.ts';

// Reference 10,000, 10% collar, tick 1. Buy collar of price p = floor(p × 1.1); sell collar = ceil(p × 0.9).

describe('stop orders', () => {
  it('a buy stop waits, reserving at the collar of its stop price, and triggers when last >= stop', () => {
    const m = market();
    m.ok(m.sell(1, 10_200, { account: 'B' })); // 1
    m.ok(m.sell(20, 10_300, { account: 'B' })); // 2
    const stop = m.order({ orderType: 'stop', stopPrice: 10_200, qty: 10 }); // 3
    const entry = m.ok(stop);
    expect(kinds(entry)).toEqual(['accepted', 'balance']);
    expect(ofType(entry, 'accepted')[0]!.order).toMatchObject({
      stopPrice: 10_200,
      price: 0,
      triggered: false,
    });
    // 10 × 11,220 + floor(112,200 × 0.002) = 112,200 + 224
    expect(m.cash('A').reserved).toBe(112_424);
    expect(m.x.depth('ACME', 5).bids).toEqual([]); // stops are not on the visible book

    const events = m.ok(m.buy(1, 10_200, { account: 'C' })); // trades at 10,200: triggers the stop
    expect(kinds(events).slice(0, 9)).toEqual([
      'accepted',
      'trade',
      'fill',
      'fill',
      'triggered',
      'trade',
      'fill',
      'fill',
      'book_changed',
    ]);
    expect(ofType(events, 'triggered')[0]!.order).toMatchObject({ id: 3, triggered: true, status: 'new' });
    const trades = ofType(events, 'trade');
    expect(trades[1]).toMatchObject({
      buyOrderId: 3,
      sellOrderId: 2,
      price: 10_300,
      qty: 10,
      aggressor: 'buy',
    });
    expect(m.cash('A').reserved).toBe(0);
    expect(m.x.openOrders('A')).toEqual([]);
  });

  it('a sell stop triggers when last <= stop; a stop-limit rests its remainder at its limit', () => {
    const m = market();
    m.ok(m.buy(1, 9_800, { account: 'B' })); // 1
    m.ok(m.buy(4, 9_750, { account: 'B' })); // 2
    m.ok(m.order({ side: 'sell', orderType: 'stop_limit', stopPrice: 9_800, price: 9_700, qty: 10 })); // 3
    expect(m.held('A').reserved).toBe(10);
    const events = m.ok(m.sell(1, 9_800, { account: 'C' }));
    expect(ofType(events, 'triggered').map((t) => t.order.id)).toEqual([3]);
    expect(ofType(events, 'trade').map((t) => [t.sellOrderId, t.price, t.qty])).toEqual([
      [4, 9_800, 1],
      [3, 9_750, 4],
    ]);
    expect(m.x.order(3)).toMatchObject({ triggered: true, filledQty: 4, status: 'partially_filled' });
    expect(m.x.depth('ACME', 5).asks).toEqual([{ price: 9_700, qty: 6, orders: 1 }]);
    expect(m.held('A')).toMatchObject({ qty: 9_996, reserved: 6 });
  });

  it('cascades: a triggered stop’s trades trigger further stops, in order', () => {
    const m = market();
    m.ok(m.sell(1, 10_100, { account: 'B' })); // 1
    m.ok(m.sell(5, 10_300, { account: 'B' })); // 2
    m.ok(m.sell(10, 10_400, { account: 'B' })); // 3
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_100, qty: 5 })); // 4
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_300, qty: 5, account: 'C' })); // 5
    const events = m.ok(m.buy(1, 10_100, { account: 'C' })); // 6
    const order = events.filter((e) => e.type === 'triggered' || e.type === 'trade');
    expect(
      order.map((e) => (e.type === 'trade' ? `trade ${e.buyOrderId}@${e.price}` : `triggered ${e.order.id}`)),
    ).toEqual(['trade 6@10100', 'triggered 4', 'trade 4@10300', 'triggered 5', 'trade 5@10400']);
  });

  it('trigger in order of stop price, then time', () => {
    const m = market();
    m.ok(m.sell(1, 10_200, { account: 'B' }));
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_200, qty: 1 })); // 2
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_100, qty: 1 })); // 3
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_100, qty: 1, account: 'C' })); // 4
    const events = m.ok(m.buy(1, 10_200, { account: 'C' }));
    expect(ofType(events, 'triggered').map((t) => t.order.id)).toEqual([3, 4, 2]);
    // nothing left to buy from: each is cancelled
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([
      [3, 'no_liquidity'],
      [4, 'no_liquidity'],
      [2, 'no_liquidity'],
    ]);
  });

  it('trigger at once when the condition already holds on entry (before any trade: the reference price)', () => {
    const m = market();
    m.ok(m.sell(5, 10_050, { account: 'B' }));
    const events = m.ok(m.order({ orderType: 'stop', stopPrice: 9_900, qty: 5 }));
    expect(kinds(events).slice(0, 3)).toEqual(['accepted', 'triggered', 'trade']);
    const sell = m.ok(m.order({ side: 'sell', orderType: 'stop', stopPrice: 10_100, qty: 1, account: 'C' }));
    // last is 10,050 <= 10,100: triggers, finds no bid
    expect(ofType(sell, 'canceled')[0]!.reason).toBe('no_liquidity');
  });

  it('a triggered buy stop trades no higher than the collar of its stop price', () => {
    const m = market();
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_100, qty: 5 })); // 1: collar(10,100) = 11,110
    m.ok(m.sell(5, 11_200, { account: 'B' })); // 2: inside the collar of 10,500, outside 11,110
    m.ok(m.sell(1, 10_500, { account: 'B' })); // 3
    const events = m.ok(m.buy(1, 10_500, { account: 'C' })); // last jumps to 10,500
    expect(ofType(events, 'triggered').map((t) => t.order.id)).toEqual([1]);
    expect(ofType(events, 'trade')).toHaveLength(1);
    expect(ofType(events, 'canceled')[0]).toMatchObject({ reason: 'collar', order: { id: 1 } });
  });

  it('a triggered sell stop takes its collar from the trigger price', () => {
    const m = market();
    m.ok(m.order({ side: 'sell', orderType: 'stop', stopPrice: 9_500, qty: 5 })); // 1
    m.ok(m.buy(5, 8_200, { account: 'B' })); // 2: above ceil(9,000 × 0.9) = 8,100
    m.ok(m.buy(1, 9_000, { account: 'B' })); // 3
    const events = m.ok(m.sell(1, 9_000, { account: 'C' })); // last 9,000
    expect(ofType(events, 'trade').map((t) => [t.sellOrderId, t.price])).toEqual([
      [4, 9_000],
      [1, 8_200],
    ]);
  });

  it('a stop-limit FOK that cannot fill at trigger time is cancelled whole', () => {
    const m = market();
    m.ok(m.sell(1, 10_100, { account: 'B' }));
    m.ok(m.sell(3, 10_200, { account: 'B' }));
    m.ok(m.order({ orderType: 'stop_limit', tif: 'fok', stopPrice: 10_100, price: 10_200, qty: 5 })); // 3
    const events = m.ok(m.buy(1, 10_100, { account: 'C' }));
    expect(ofType(events, 'trade')).toHaveLength(1);
    expect(ofType(events, 'canceled')[0]).toMatchObject({
      reason: 'ioc_remainder',
      order: { id: 3, filledQty: 0 },
    });
  });

  it('replace moves the stop price and its reservation, and can trigger it', () => {
    const m = market();
    m.ok(m.sell(5, 10_300, { account: 'B' })); // 1
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_500, qty: 5 })); // 2: collar 11,550
    expect(m.cash('A').reserved).toBe(57_750 + 115);
    const moved = m.ok({ type: 'replace', ts: ++m.ts, id: 2, account: 'A', stopPrice: 10_200 });
    expect(ofType(moved, 'replaced')[0]).toMatchObject({ keptPriority: false, order: { stopPrice: 10_200 } });
    expect(m.cash('A').reserved).toBe(56_100 + 112); // collar(10,200) = 11,220
    // below the last (reference) price 10,000: triggers now and buys at 10,300
    const now = m.ok({ type: 'replace', ts: ++m.ts, id: 2, account: 'A', stopPrice: 9_900 });
    expect(kinds(now).slice(0, 3)).toEqual(['replaced', 'triggered', 'trade']);
    expect(m.cash('A').reserved).toBe(0);
  });

  it('replace cannot give a stop order a limit price, nor a limit order a stop price', () => {
    const m = market();
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_500, qty: 5 })); // 1
    m.ok(m.buy(5, 9_000)); // 2
    m.rejects({ type: 'replace', ts: 1, id: 1, account: 'A', price: 10_000 }, 'invalid_replace');
    m.rejects({ type: 'replace', ts: 1, id: 2, account: 'A', stopPrice: 10_000 }, 'invalid_replace');
  });

  it('cancel releases a waiting stop; close expires a day stop and keeps a gtc stop', () => {
    const m = market();
    m.ok(m.order({ orderType: 'stop', stopPrice: 10_500, qty: 5, tif: 'day' })); // 1
    m.ok(m.order({ orderType: 'stop_limit', stopPrice: 10_600, price: 10_700, qty: 5, tif: 'gtc' })); // 2
    m.ok(m.order({ side: 'sell', orderType: 'stop', stopPrice: 9_000, qty: 5, tif: 'gtc' })); // 3
    const canceled = m.ok({ type: 'cancel', ts: ++m.ts, id: 3, account: 'A' });
    expect(ofType(canceled, 'canceled')[0]!.reason).toBe('user');
    expect(m.held('A').reserved).toBe(0);
    const closed = m.ok({ type: 'session', ts: ++m.ts, state: 'closed' });
    expect(ofType(closed, 'expired').map((x) => x.order.id)).toEqual([1]);
    // only the stop-limit's reservation is left: 5 × 10,700 + 107
    expect(m.cash('A').reserved).toBe(53_607);
    expect(m.x.openOrders('A').map((o) => o.id)).toEqual([2]);
  });
});
