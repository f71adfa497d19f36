import { describe, expect, it } from 'vitest';
import type { EngineEvent } from '../domain/exchange.ts';
import { createExchange } from './exchange.ts';
import { CONFIG, kinds, lastView, market, ofType } from './test-kit.ts';

// Reference 10,000, 10% collar, tick 1, fees 10/20 bps. Accounts A, B, C hold cash and 10,000 shares.

/** A buys 10 with a bracket: entry limit 10,000, take profit 10,500, stop loss 9,500 (ids 1, 2, 3). */
function bracket(m: ReturnType<typeof market>, stopLoss: object = { stopPrice: 9_500 }) {
  return m.ok(
    m.buy(10, 10_000, {
      orderClass: 'bracket',
      takeProfit: { price: 10_500 },
      stopLoss,
    }),
  );
}

describe('bracket orders', () => {
  it('holds the exits until the entry fills, then releases them as a one-cancels-other pair', () => {
    const m = market();
    const placed = bracket(m);
    expect(
      ofType(placed, 'accepted').map((a) => [a.order.id, a.order.side, a.order.orderType, a.order.status]),
    ).toEqual([
      [1, 'buy', 'limit', 'new'],
      [2, 'sell', 'limit', 'held'],
      [3, 'sell', 'stop', 'held'],
    ]);
    expect(lastView(placed, 2)).toMatchObject({ orderClass: 'bracket', parentId: 1 });
    // Held exits are on no book and hold nothing: the shares are not bought yet.
    expect(m.x.depth('ACME', 5).asks).toEqual([]);
    expect(m.held('A').reserved).toBe(0);

    const filled = m.ok(m.sell(10, 10_000, { account: 'B' })); // 4
    expect(ofType(filled, 'released').map((r) => r.order.id)).toEqual([2, 3]);
    expect(m.x.order(2)).toMatchObject({ status: 'new', qty: 10 });
    expect(m.x.depth('ACME', 5).asks).toEqual([{ price: 10_500, qty: 10, orders: 1 }]);
    // The two exits sell the same 10 shares: reserved once.
    expect(m.held('A').reserved).toBe(10);

    // The take-profit fills: the stop-loss is cancelled.
    const out = m.ok(m.buy(10, 10_500, { account: 'C' }));
    expect(ofType(out, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([[3, 'oco']]);
    expect(m.x.openOrders('A')).toEqual([]);
    expect(m.held('A').reserved).toBe(0);
  });

  it('a partial fill then a cancel of the entry sizes the exits to the filled quantity', () => {
    const m = market();
    bracket(m);
    m.ok(m.sell(4, 10_000, { account: 'B' })); // 4: entry 4 of 10
    // The held sell legs hold the 4 shares bought so far.
    expect(m.held('A').reserved).toBe(4);
    const events = m.ok({ type: 'cancel', ts: ++m.ts, id: 1, account: 'A' });
    expect(kinds(events).slice(0, 3)).toEqual(['canceled', 'released', 'released']);
    expect(m.x.order(2)).toMatchObject({ qty: 4, status: 'new' });
    expect(m.x.order(3)).toMatchObject({ qty: 4, status: 'new', stopPrice: 9_500 });
    expect(m.held('A').reserved).toBe(4);
  });

  it('cancelling an entry before any fill cancels its held exits', () => {
    const m = market();
    bracket(m);
    const events = m.ok({ type: 'cancel', ts: ++m.ts, id: 1, account: 'A' });
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([
      [1, 'user'],
      [2, 'parent'],
      [3, 'parent'],
    ]);
    expect(m.x.openOrders('A')).toEqual([]);
    expect(m.cash('A').reserved).toBe(0);
  });

  it('a released stop-loss that triggers cancels the take-profit', () => {
    const m = market();
    bracket(m);
    m.ok(m.sell(10, 10_000, { account: 'B' })); // 4
    m.ok(m.buy(20, 9_400, { account: 'B' })); // 5: bids the stop will sell into
    const events = m.ok(m.sell(1, 9_400, { account: 'C' })); // 6: last 9,400 <= 9,500
    expect(ofType(events, 'triggered').map((t) => t.order.id)).toEqual([3]);
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([[2, 'oco']]);
    expect(m.held('A')).toMatchObject({ qty: 10_000, reserved: 0 });
  });

  it('takes a trailing stop as the stop-loss leg (Alpaca-API#233)', () => {
    const m = market();
    bracket(m, { trailPrice: 300 });
    expect(m.x.order(3)).toMatchObject({
      orderType: 'trailing_stop',
      status: 'held',
      hwm: 0,
      trailPrice: 300,
    });
    m.ok(m.sell(10, 10_000, { account: 'B' })); // 4
    expect(m.x.order(3)).toMatchObject({ status: 'new', hwm: 10_000, stopPrice: 9_700 });
    m.ok(m.sell(1, 10_400, { account: 'B' })); // 5
    m.ok(m.buy(1, 10_400, { account: 'C' })); // 6
    expect(m.x.order(3)).toMatchObject({ hwm: 10_400, stopPrice: 10_100 });
  });

  it('replacing a held leg changes its price, not its size', () => {
    const m = market();
    bracket(m);
    const events = m.ok({ type: 'replace', ts: ++m.ts, id: 2, account: 'A', price: 10_600 });
    expect(lastView(events, 2)).toMatchObject({ price: 10_600, status: 'held' });
    m.rejects({ type: 'replace', ts: ++m.ts, id: 3, account: 'A', qty: 5 }, 'invalid_replace');
    m.ok(m.sell(10, 10_000, { account: 'B' }));
    expect(m.x.depth('ACME', 5).asks).toEqual([{ price: 10_600, qty: 10, orders: 1 }]);
  });

  it('rejects legs that do not hold together', () => {
    const m = market();
    // take profit below the stop of a long position
    m.rejects(
      m.buy(10, 10_000, {
        orderClass: 'bracket',
        takeProfit: { price: 9_000 },
        stopLoss: { stopPrice: 9_500 },
      }),
      'invalid_order_class',
    );
    m.rejects(
      m.buy(10, 10_000, { orderClass: 'bracket', takeProfit: { price: 10_500 } }),
      'invalid_order_class',
    );
    m.rejects(
      m.buy(10, 10_000, { orderClass: 'oto', tif: 'ioc', takeProfit: { price: 10_500 } }),
      'invalid_order_class',
    );
    m.rejects(m.buy(10, 10_000, { takeProfit: { price: 10_500 } }), 'invalid_order_class');
  });

  it('a sell entry holds cash for its buy-back legs up front', () => {
    const m = market();
    m.ok(
      m.sell(10, 10_000, {
        orderClass: 'bracket',
        takeProfit: { price: 9_500 },
        stopLoss: { stopPrice: 10_500, price: 10_600 },
      }),
    );
    // The larger of the two legs' needs: 10 × 10,600 + 0.2% fee
    expect(m.cash('A').reserved).toBe(106_000 + 212);
    expect(m.held('A').reserved).toBe(10);
  });
});

describe('exit legs released while the market cannot trade', () => {
  /**
   * A's bracket (1, 2, 3) buys 4 of 10 from B (4); C bids 10,600 for 5 (5), which the take-profit
   * (sell 10,500) would cross at once.
   */
  function partlyFilled() {
    const m = market();
    bracket(m);
    m.ok(m.sell(4, 10_000, { account: 'B' })); // 4
    m.ok(m.buy(5, 10_600, { account: 'C' })); // 5
    return m;
  }
  const cancelEntry = (m: ReturnType<typeof market>) =>
    m.ok({ type: 'cancel', ts: ++m.ts, id: 1, account: 'A' });

  /** The legs wait, sized and holding as released legs would, and nothing trades. */
  function expectReleasable(m: ReturnType<typeof market>, events: EngineEvent[]) {
    expect(kinds(events).filter((k) => k === 'released' || k === 'trade')).toEqual([]);
    expect(m.x.order(2)).toMatchObject({ status: 'held', qty: 4 });
    expect(m.x.order(3)).toMatchObject({ status: 'held', qty: 4 });
    expect(m.x.depth('ACME', 5).asks).toEqual([]);
    expect(m.held('A').reserved).toBe(4);
  }

  /** Trading resumes: the take-profit is released, sells 4 to C's bid, and cancels the stop-loss. */
  function expectReleasedAndTraded(events: EngineEvent[]) {
    expect(kinds(events).filter((k) => k === 'released' || k === 'trade' || k === 'canceled')).toEqual([
      'released',
      'trade',
      'canceled',
    ]);
    expect(lastView(events, 2)).toMatchObject({ status: 'filled', filledQty: 4 });
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([[3, 'oco']]);
  }

  it('keeps them held through a market halt and starts them when it is lifted', () => {
    const m = partlyFilled();
    m.ok({ type: 'halt', ts: ++m.ts, symbol: null, halted: true });
    expectReleasable(m, cancelEntry(m));
    const lifted = m.ok({ type: 'halt', ts: ++m.ts, symbol: null, halted: false });
    expect(lifted[0]).toMatchObject({ type: 'halt', halted: false });
    expectReleasedAndTraded(lifted);
    expect(m.x.openOrders('A')).toEqual([]);
    expect(m.held('A')).toMatchObject({ qty: 10_000, reserved: 0 });
  });

  it('keeps them held through a symbol halt, and while the market is still halted', () => {
    const m = partlyFilled();
    m.ok({ type: 'halt', ts: ++m.ts, symbol: 'ACME', halted: true });
    m.ok({ type: 'halt', ts: ++m.ts, symbol: null, halted: true });
    expectReleasable(m, cancelEntry(m));
    // The symbol's halt is lifted, the market's is not: still nothing.
    expectReleasable(m, m.ok({ type: 'halt', ts: ++m.ts, symbol: 'ACME', halted: false }));
    expectReleasedAndTraded(m.ok({ type: 'halt', ts: ++m.ts, symbol: null, halted: false }));
  });

  it('keeps them held in pre-open and while closed, and starts them at the open', () => {
    const m = partlyFilled();
    m.ok({ type: 'session', ts: ++m.ts, state: 'pre_open' });
    expectReleasable(m, cancelEntry(m));
    // A replace in pre-open keeps a releasable leg held.
    m.ok({ type: 'replace', ts: ++m.ts, id: 2, account: 'A', price: 10_550 });
    expect(m.x.order(2)).toMatchObject({ status: 'held', price: 10_550 });
    expect(m.x.depth('ACME', 5).asks).toEqual([]);
    expectReleasable(m, m.ok({ type: 'session', ts: ++m.ts, state: 'closed' }));
    const open = m.ok({ type: 'session', ts: ++m.ts, state: 'open' });
    expectReleasedAndTraded(open);
    expect(ofType(open, 'trade')[0]).toMatchObject({ price: 10_600, qty: 4 });
  });

  it('day legs released while closed expire with the other day orders', () => {
    const d = market();
    d.ok(
      d.buy(10, 10_000, {
        tif: 'day',
        orderClass: 'bracket',
        takeProfit: { price: 10_500 },
        stopLoss: { stopPrice: 9_500 },
      }),
    );
    d.ok(d.sell(4, 10_000, { account: 'B' }));
    d.ok({ type: 'halt', ts: ++d.ts, symbol: null, halted: true });
    cancelEntry(d);
    const closed = d.ok({ type: 'session', ts: ++d.ts, state: 'closed' });
    expect(ofType(closed, 'expired').map((x) => x.order.id)).toEqual([2, 3]);
    expect(d.x.openOrders('A')).toEqual([]);
    expect(d.held('A').reserved).toBe(0);
  });

  it('a snapshot taken while legs are releasable restores them, and the restored engine starts them alike', () => {
    const m = partlyFilled();
    m.ok({ type: 'halt', ts: ++m.ts, symbol: 'ACME', halted: true });
    cancelEntry(m);
    const x = createExchange(CONFIG, JSON.parse(JSON.stringify(m.x.snapshot())));
    expect(x.exportState()).toEqual(m.x.exportState());
    const lift = { type: 'halt', ts: ++m.ts, symbol: 'ACME', halted: false } as const;
    const events = m.apply(lift);
    expectReleasedAndTraded(events);
    expect(x.apply(lift)).toEqual(events);
    expect(x.exportState()).toEqual(m.x.exportState());
  });
});

describe('oco and oto orders', () => {
  it('an oco works both legs at once, reserves the shares once, and a cancel cancels both', () => {
    const m = market();
    const placed = m.ok(
      m.sell(10, 10_500, { orderClass: 'oco', stopLoss: { stopPrice: 9_500 } }), // 1, 2
    );
    expect(ofType(placed, 'accepted').map((a) => [a.order.id, a.order.orderType, a.order.status])).toEqual([
      [1, 'limit', 'new'],
      [2, 'stop', 'new'],
    ]);
    expect(m.held('A').reserved).toBe(10);
    // Only 9,990 shares are free: an order for all 10,000 more would be double-counting.
    m.rejects(m.sell(9_991, 11_000), 'insufficient_shares');
    const events = m.ok({ type: 'cancel', ts: ++m.ts, id: 2, account: 'A' });
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([
      [2, 'user'],
      [1, 'oco'],
    ]);
    expect(m.held('A').reserved).toBe(0);
  });

  it('the first fill of an oco leg cancels the other; the rest of the filled leg keeps working', () => {
    const m = market();
    m.ok(m.sell(10, 10_500, { orderClass: 'oco', stopLoss: { stopPrice: 9_500 } })); // 1, 2
    const events = m.ok(m.buy(4, 10_500, { account: 'B' }));
    expect(ofType(events, 'canceled').map((c) => [c.order.id, c.reason])).toEqual([[2, 'oco']]);
    expect(m.x.order(1)).toMatchObject({ filledQty: 4, status: 'partially_filled' });
    expect(m.held('A').reserved).toBe(6);
  });

  it('an oto releases its one exit when the entry fills', () => {
    const m = market();
    m.ok(m.sell(10, 10_000, { account: 'B' })); // 1
    const events = m.ok(
      m.order({ orderType: 'market', qty: 10, orderClass: 'oto', stopLoss: { trailBps: 200 } }), // 2, 3
    );
    expect(ofType(events, 'released').map((r) => r.order.id)).toEqual([3]);
    expect(m.x.order(3)).toMatchObject({
      side: 'sell',
      orderType: 'trailing_stop',
      hwm: 10_000,
      stopPrice: 9_800,
    });
  });
});

describe('snapshots of order classes', () => {
  it('restore held legs, pairs and trailing stops; a format 1 snapshot still loads', () => {
    const m = market();
    bracket(m, { trailBps: 300 });
    m.ok(m.sell(10, 10_500, { account: 'B', orderClass: 'oco', stopLoss: { stopPrice: 9_500 } }));
    const snap = JSON.parse(JSON.stringify(m.x.snapshot()));
    expect(snap.format).toBe(2);
    const x = createExchange(CONFIG, snap);
    expect(x.exportState()).toEqual(m.x.exportState());
    // The restored engine releases the legs exactly as the original does.
    const fill = m.sell(10, 10_000, { account: 'C' });
    expect(x.apply(fill)).toEqual(m.apply(fill));

    const plain = market();
    plain.ok(plain.buy(5, 9_900));
    const v1 = { ...JSON.parse(JSON.stringify(plain.x.snapshot())), format: 1 };
    expect(createExchange(CONFIG, v1).exportState()).toEqual(plain.x.exportState());
    expect(() => createExchange(CONFIG, { ...v1, format: 3 })).toThrow(/snapshot format 3/);
  });
});
