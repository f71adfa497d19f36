import { describe, expect, it } from 'vitest';
import { lastView, market, ofType } from './test-kit.ts';

// Reference 10,000, 10% collar, tick 1. Accounts A, B, C hold cash and 10,000 shares each.

describe('trailing stops', () => {
  it('a sell trailing stop follows the high-water mark up, never down, and triggers as a market order', () => {
    const m = market();
    const placed = m.ok(m.order({ side: 'sell', orderType: 'trailing_stop', trailPrice: 200, qty: 5 })); // 1
    expect(ofType(placed, 'accepted')[0]!.order).toMatchObject({
      orderType: 'trailing_stop',
      hwm: 10_000,
      stopPrice: 9_800,
      trailPrice: 200,
      trailBps: 0,
    });
    expect(m.held('A').reserved).toBe(5);
    // A trade at 10,300 lifts the mark and the stop.
    m.ok(m.sell(1, 10_300, { account: 'B' })); // 2
    m.ok(m.buy(1, 10_300, { account: 'C' })); // 3
    expect(m.x.order(1)).toMatchObject({ hwm: 10_300, stopPrice: 10_100, triggered: false });
    // A lower trade does not lower it.
    m.ok(m.sell(1, 10_200, { account: 'B' })); // 4
    m.ok(m.buy(1, 10_200, { account: 'C' })); // 5
    expect(m.x.order(1)).toMatchObject({ hwm: 10_300, stopPrice: 10_100 });
    // A trade at or below 10,100 triggers it: it sells into the bids.
    m.ok(m.buy(10, 10_050, { account: 'B' })); // 6
    const events = m.ok(m.sell(1, 10_100, { account: 'C', tif: 'ioc' })); // 7: no bid at 10,100, cancelled
    expect(ofType(events, 'triggered')).toEqual([]);
    const hit = m.ok(m.sell(1, 10_050, { account: 'C' })); // 8: trades at 10,050 <= 10,100
    expect(ofType(hit, 'triggered')[0]!.order).toMatchObject({ id: 1, hwm: 10_300, stopPrice: 10_100 });
    expect(ofType(hit, 'trade').map((t) => [t.sellOrderId, t.price, t.qty])).toEqual([
      [8, 10_050, 1],
      [1, 10_050, 5],
    ]);
    expect(m.held('A').reserved).toBe(0);
  });

  it('a buy trailing stop in percent tracks the low and releases cash as its stop comes down', () => {
    const m = market();
    m.ok(m.order({ side: 'buy', orderType: 'trailing_stop', trailBps: 100, qty: 10 })); // 1: 1%
    // stop = ceil(10,000 × 1.01) = 10,100; reserved at its collar floor(10,100 × 1.1) = 11,110 a share
    expect(m.x.order(1)).toMatchObject({ hwm: 10_000, stopPrice: 10_100 });
    expect(m.cash('A').reserved).toBe(111_100 + 222);
    m.ok(m.buy(1, 9_000, { account: 'B' })); // 2
    m.ok(m.sell(1, 9_000, { account: 'C' })); // 3
    // stop = 9,090, collar 9,999
    expect(m.x.order(1)).toMatchObject({ hwm: 9_000, stopPrice: 9_090 });
    expect(m.cash('A').reserved).toBe(99_990 + 199);
  });

  it('waits for its activation price before it tracks or can trigger', () => {
    const m = market();
    m.ok(
      m.order({ side: 'sell', orderType: 'trailing_stop', trailPrice: 100, activationPrice: 10_500, qty: 5 }),
    ); // 1
    expect(m.x.order(1)).toMatchObject({ hwm: 0, stopPrice: 0, activationPrice: 10_500 });
    // A fall far below would have triggered a working stop: this one is not tracking yet.
    m.ok(m.buy(1, 9_000, { account: 'B' })); // 2
    m.ok(m.sell(1, 9_000, { account: 'C' })); // 3
    expect(m.x.order(1)).toMatchObject({ hwm: 0, triggered: false });
    m.ok(m.sell(1, 10_600, { account: 'B' })); // 4
    m.ok(m.buy(1, 10_600, { account: 'C' })); // 5: reaches the activation price
    expect(m.x.order(1)).toMatchObject({ hwm: 10_600, stopPrice: 10_500 });
  });

  it('replace changes the trail, from the same mark; a stop price does not apply', () => {
    const m = market();
    m.ok(m.order({ side: 'sell', orderType: 'trailing_stop', trailPrice: 200, qty: 5 })); // 1
    const events = m.ok({ type: 'replace', ts: ++m.ts, id: 1, account: 'A', trailBps: 50 });
    expect(lastView(events, 1)).toMatchObject({ hwm: 10_000, stopPrice: 9_950, trailPrice: 0, trailBps: 50 });
    m.rejects({ type: 'replace', ts: ++m.ts, id: 1, account: 'A', stopPrice: 9_000 }, 'invalid_replace');
    m.rejects({ type: 'replace', ts: ++m.ts, id: 1, account: 'A', trailBps: 10_000 }, 'invalid_trail');
  });

  it('rejects a trailing stop without exactly one well-formed trail', () => {
    const m = market();
    m.rejects(m.order({ side: 'sell', orderType: 'trailing_stop', qty: 5 }), 'invalid_trail');
    m.rejects(
      m.order({ side: 'sell', orderType: 'trailing_stop', trailPrice: 100, trailBps: 100, qty: 5 }),
      'invalid_trail',
    );
    m.rejects(m.order({ side: 'sell', orderType: 'trailing_stop', trailBps: 0, qty: 5 }), 'invalid_trail');
    m.rejects(m.order({ side: 'sell', orderType: 'limit', price: 10_000, trailPrice: 5 }), 'invalid_trail');
  });
});
