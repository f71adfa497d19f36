import { describe, expect, it } from 'vitest';
import { FEES, kinds, market, ofType, spec } from './test-kit.ts';

// Fees in the test market: maker 10 bps, taker 20 bps; buys reserve at 20 bps.
// Accounts A, B, C start with 100,000,000 cents and 10,000 shares at cost 100,000,000.

describe('limit orders', () => {
  it('rest on the book and reserve price × qty plus the higher fee rate', () => {
    const m = market();
    const events = m.ok(m.buy(10, 9_900));
    expect(kinds(events)).toEqual(['accepted', 'book_changed', 'balance']);
    expect(ofType(events, 'accepted')[0]!.order).toMatchObject({
      id: 1,
      status: 'new',
      qty: 10,
      price: 9_900,
    });
    expect(ofType(events, 'book_changed')[0]).toEqual({
      type: 'book_changed',
      symbol: 'ACME',
      side: 'buy',
      price: 9_900,
      qty: 10,
      orders: 1,
    });
    // 99,000 + floor(99,000 × 20 / 10,000) = 99,000 + 198
    expect(ofType(events, 'balance')[0]).toEqual({
      type: 'balance',
      account: 'A',
      cash: 100_000_000,
      reserved: 99_198,
      cause: 'reserve',
      delta: 0,
    });
    expect(m.x.bestBid('ACME')).toBe(9_900);
    expect(m.x.bestAsk('ACME')).toBeNull();
  });

  it('a sell reserves shares', () => {
    const m = market();
    const events = m.ok(m.sell(10, 10_100, { account: 'B' }));
    expect(ofType(events, 'position')[0]).toEqual({
      type: 'position',
      account: 'B',
      symbol: 'ACME',
      qty: 10_000,
      reserved: 10,
      cost: 100_000_000,
    });
  });

  it('cross at the resting price; buyer pays notional + taker fee, seller gets notional − maker fee', () => {
    const m = market();
    m.ok(m.sell(10, 10_000, { account: 'B' })); // id 1
    const events = m.ok(m.buy(4, 10_100)); // id 2, willing to pay more: trades at 10,000
    expect(kinds(events)).toEqual([
      'accepted',
      'trade',
      'fill',
      'fill',
      'book_changed',
      'balance',
      'balance',
      'balance',
      'position',
      'position',
    ]);
    // notional 40,000: taker fee 80 (20 bps), maker fee 40 (10 bps)
    expect(ofType(events, 'trade')[0]).toEqual({
      type: 'trade',
      tradeId: 1,
      ts: m.ts,
      symbol: 'ACME',
      price: 10_000,
      qty: 4,
      buyOrderId: 2,
      sellOrderId: 1,
      buyAccount: 'A',
      sellAccount: 'B',
      aggressor: 'buy',
      buyFee: 80,
      sellFee: 40,
    });
    const [maker, taker] = ofType(events, 'fill');
    expect(maker).toMatchObject({ tradeId: 1, price: 10_000, qty: 4, fee: 40, liquidity: 'maker' });
    expect(maker!.order).toMatchObject({
      id: 1,
      filledQty: 4,
      status: 'partially_filled',
      filledNotional: 40_000,
    });
    expect(taker).toMatchObject({ tradeId: 1, price: 10_000, qty: 4, fee: 80, liquidity: 'taker' });
    expect(taker!.order).toMatchObject({ id: 2, filledQty: 4, status: 'filled', fees: 80 });
    expect(ofType(events, 'book_changed')).toEqual([
      { type: 'book_changed', symbol: 'ACME', side: 'sell', price: 10_000, qty: 6, orders: 1 },
    ]);
    expect(ofType(events, 'balance')).toEqual([
      { type: 'balance', account: 'A', cash: 99_959_920, reserved: 0, cause: 'trade', delta: -40_080 },
      { type: 'balance', account: 'B', cash: 100_039_960, reserved: 0, cause: 'trade', delta: 39_960 },
      { type: 'balance', account: FEES, cash: 120, reserved: 0, cause: 'trade', delta: 120 },
    ]);
    // Seller's cost basis shrinks in proportion: 100,000,000 × 4 / 10,000 = 40,000.
    expect(m.held('B')).toEqual({ qty: 9_996, reserved: 6, cost: 99_960_000 });
    // Buyer's cost basis includes the fee.
    expect(m.held('A')).toEqual({ qty: 10_004, reserved: 0, cost: 100_040_080 });
    expect(m.x.instrument('ACME')).toMatchObject({ lastTradePrice: 10_000, referencePrice: 10_000 });
  });

  it('sweep levels in price-time priority and rest nothing when filled', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 1
    m.ok(m.sell(5, 10_000, { account: 'C' })); // 2
    m.ok(m.sell(5, 10_010, { account: 'B' })); // 3
    m.ok(m.sell(5, 9_990, { account: 'C' })); // 4: best price, later in time
    const events = m.ok(m.buy(17, 10_010));
    expect(ofType(events, 'trade').map((t) => [t.tradeId, t.sellOrderId, t.price, t.qty])).toEqual([
      [1, 4, 9_990, 5],
      [2, 1, 10_000, 5],
      [3, 2, 10_000, 5],
      [4, 3, 10_010, 2],
    ]);
    expect(ofType(events, 'book_changed').map((b) => [b.price, b.qty, b.orders])).toEqual([
      [9_990, 0, 0],
      [10_000, 0, 0],
      [10_010, 3, 1],
    ]);
    expect(m.x.depth('ACME', 10)).toEqual({
      symbol: 'ACME',
      bids: [],
      asks: [{ price: 10_010, qty: 3, orders: 1 }],
    });
  });

  it('rest the remainder of a partial fill, holding only what the remainder needs', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' }));
    const events = m.ok(m.buy(8, 10_000));
    expect(ofType(events, 'fill')[1]!.order).toMatchObject({ filledQty: 5, status: 'partially_filled' });
    // paid 50,000 + 100; holds 3 × 10,000 + floor(30,000 × 0.002) = 30,060
    expect(m.cash('A')).toEqual({ cash: 99_949_900, reserved: 30_060 });
    expect(m.x.depth('ACME', 5).bids).toEqual([{ price: 10_000, qty: 3, orders: 1 }]);
    expect(m.x.order(2)).toMatchObject({ status: 'partially_filled', filledQty: 5 });
  });

  it('a sell taker pays the taker fee and trades at the bid', () => {
    const m = market();
    m.ok(m.buy(10, 10_000, { account: 'B' }));
    const events = m.ok(m.sell(10, 9_000));
    expect(ofType(events, 'trade')[0]).toMatchObject({
      price: 10_000,
      aggressor: 'sell',
      buyFee: 100,
      sellFee: 200,
    });
    expect(m.cash('A').cash).toBe(100_000_000 + 100_000 - 200);
    expect(m.cash('B')).toEqual({ cash: 100_000_000 - 100_100, reserved: 0 });
    expect(m.cash(FEES).cash).toBe(300);
  });
});

describe('deep books', () => {
  it('stay right when thousands of emptied price levels are compacted away', () => {
    const m = market({ spec: { priceBandBps: 0 } });
    // 1,500 bids at distinct prices below the touch, then cancel all but every 100th:
    // the emptied levels outnumber the live ones by far more than the slack, forcing compactions.
    for (let i = 0; i < 1_500; i++) m.ok(m.buy(1, 8_000 - i, { account: i % 2 ? 'A' : 'C' }));
    for (let i = 0; i < 1_500; i++) {
      if (i % 100 !== 0) m.ok({ type: 'cancel', ts: 1, id: i + 1, account: i % 2 ? 'A' : 'C' });
    }
    const live = Array.from({ length: 15 }, (_, k) => 8_000 - k * 100);
    expect(m.x.depth('ACME', 100).bids.map((l) => l.price)).toEqual(live);
    // orders at prices whose levels were dropped, then a sweep through all of it
    m.ok(m.buy(2, 7_950));
    m.ok(m.buy(3, 7_999, { account: 'C' }));
    expect(m.x.depth('ACME', 3).bids).toEqual([
      { price: 8_000, qty: 1, orders: 1 },
      { price: 7_999, qty: 3, orders: 1 },
      { price: 7_950, qty: 2, orders: 1 },
    ]);
    const events = m.ok(m.sell(20, 6_500, { account: 'B' }));
    // one trade per resting order, best price first: 1 + 3 + 2 + 14 × 1 = 20
    expect(ofType(events, 'trade').map((t) => t.price)).toEqual([8_000, 7_999, 7_950, ...live.slice(1)]);
    expect(m.x.depth('ACME', 5)).toEqual({ symbol: 'ACME', bids: [], asks: [] });
    expect(m.x.exportState().openOrders).toEqual([]);
  });
});

describe('fees', () => {
  it('round down to the cent, per fill', () => {
    const m = market({ spec: { referencePrice: 500 } });
    m.ok(m.sell(1, 499, { account: 'B' }));
    const events = m.ok(m.buy(1, 499));
    // 499 × 20 / 10,000 = 0.998 → 0; 499 × 10 / 10,000 = 0.499 → 0
    expect(ofType(events, 'trade')[0]).toMatchObject({ buyFee: 0, sellFee: 0 });
    expect(ofType(events, 'balance').map((b) => b.account)).toEqual(['A', 'B']); // fee account untouched
    expect(m.cash(FEES).cash).toBe(0);
  });

  it('a reservation covers the fees of any split into fills (floor is superadditive)', () => {
    const m = market({ spec: { referencePrice: 3_333 } });
    for (let i = 0; i < 3; i++) m.ok(m.sell(1, 3_333, { account: i === 1 ? 'C' : 'B' }));
    const before = m.cash('A').cash;
    // reserve 9,999 + floor(19.998) = 10,018; pay 3 × (3,333 + floor(6.666)) = 10,017
    const events = m.ok(m.buy(3, 3_333));
    expect(ofType(events, 'trade').map((t) => t.buyFee)).toEqual([6, 6, 6]);
    expect(m.cash('A')).toEqual({ cash: before - 10_017, reserved: 0 });
  });

  it('come from the instrument when it has its own schedule', () => {
    const m = market({ spec: { fees: { makerBps: 0, takerBps: 50 } } });
    m.ok(m.sell(10, 10_000, { account: 'B' }));
    const events = m.ok(m.buy(10, 10_000));
    expect(ofType(events, 'trade')[0]).toMatchObject({ buyFee: 500, sellFee: 0 });
  });

  it('buys reserve at the higher of maker and taker rates', () => {
    const m = market({ spec: { fees: { makerBps: 40, takerBps: 5 } } });
    m.ok(m.buy(10, 10_000));
    expect(m.cash('A').reserved).toBe(100_000 + 400);
  });
});

describe('instrument listing', () => {
  it('rejects a duplicate symbol and an invalid spec', () => {
    const m = market();
    m.rejects({ type: 'add_instrument', ts: 1, spec: spec() }, 'duplicate_symbol');
    m.rejects(
      { type: 'add_instrument', ts: 1, spec: spec({ symbol: 'B', tickSize: 0 }) },
      'invalid_instrument',
    );
    m.rejects(
      { type: 'add_instrument', ts: 1, spec: spec({ symbol: 'B', tickSize: 3, referencePrice: 100 }) },
      'invalid_instrument',
    );
    m.rejects(
      { type: 'add_instrument', ts: 1, spec: spec({ symbol: 'B', minQty: 5, maxQty: 4 }) },
      'invalid_instrument',
    );
    m.rejects(
      { type: 'add_instrument', ts: 1, spec: spec({ symbol: 'B', fees: { makerBps: -1, takerBps: 0 } }) },
      'invalid_instrument',
    );
  });

  it('keeps its own copy of the spec', () => {
    const m = market();
    const s = spec({ symbol: 'COPY' });
    m.ok({ type: 'add_instrument', ts: 1, spec: s });
    s.tickSize = 7;
    expect(m.x.instrument('COPY')!.spec.tickSize).toBe(1);
  });
});
