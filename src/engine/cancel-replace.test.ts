import { describe, expect, it } from 'vitest';
import type { ReplaceCommand } from '../domain/exchange.ts';
import { kinds, market, ofType } from './test-kit.ts';

function replace(id: number, fields: Partial<ReplaceCommand>, account = 'A'): ReplaceCommand {
  return { type: 'replace', ts: 2_000, id, account, ...fields };
}

describe('cancel', () => {
  it('removes the order and releases its reservation', () => {
    const m = market();
    m.ok(m.buy(10, 9_900));
    const events = m.ok({ type: 'cancel', ts: 2_000, id: 1, account: 'A' });
    expect(kinds(events)).toEqual(['canceled', 'book_changed', 'balance']);
    expect(ofType(events, 'canceled')[0]).toMatchObject({
      reason: 'user',
      order: { status: 'canceled', updatedAt: 2_000 },
    });
    expect(ofType(events, 'book_changed')[0]).toMatchObject({ price: 9_900, qty: 0, orders: 0 });
    expect(m.cash('A')).toEqual({ cash: 100_000_000, reserved: 0 });
    expect(m.x.order(1)).toBeUndefined();
  });

  it('is refused for another account’s order, an unknown order, and a finished one', () => {
    const m = market();
    m.ok(m.buy(10, 9_900)); // 1
    m.rejects({ type: 'cancel', ts: 1, id: 1, account: 'B' }, 'not_owner');
    m.rejects({ type: 'cancel', ts: 1, id: 99, account: 'A' }, 'unknown_order');
    m.ok({ type: 'cancel', ts: 1, id: 1, account: 'A' });
    m.rejects({ type: 'cancel', ts: 1, id: 1, account: 'A' }, 'order_not_open');
  });
});

describe('replace', () => {
  it('a size decrease keeps time priority', () => {
    const m = market();
    m.ok(m.buy(10, 9_900)); // 1
    m.ok(m.buy(10, 9_900, { account: 'C' })); // 2
    const events = m.ok(replace(1, { qty: 6 }));
    expect(kinds(events)).toEqual(['replaced', 'book_changed', 'balance']);
    expect(ofType(events, 'replaced')[0]).toMatchObject({ keptPriority: true, order: { qty: 6 } });
    expect(ofType(events, 'book_changed')[0]).toMatchObject({ price: 9_900, qty: 16, orders: 2 });
    expect(m.cash('A').reserved).toBe(59_400 + 118);
    const fill = m.ok(m.sell(6, 9_900, { account: 'B' }));
    expect(ofType(fill, 'trade').map((t) => t.buyOrderId)).toEqual([1]);
  });

  it('a size increase loses time priority', () => {
    const m = market();
    m.ok(m.buy(10, 9_900)); // 1
    m.ok(m.buy(10, 9_900, { account: 'C' })); // 2
    const events = m.ok(replace(1, { qty: 12 }));
    expect(ofType(events, 'replaced')[0]).toMatchObject({ keptPriority: false });
    // removed and re-added in one command: still one book_changed for the level
    expect(ofType(events, 'book_changed')).toEqual([
      { type: 'book_changed', symbol: 'ACME', side: 'buy', price: 9_900, qty: 22, orders: 2 },
    ]);
    const fill = m.ok(m.sell(6, 9_900, { account: 'B' }));
    expect(ofType(fill, 'trade').map((t) => t.buyOrderId)).toEqual([2]);
  });

  it('a price change loses priority, moves the reservation, and trades if it now crosses', () => {
    const m = market();
    m.ok(m.sell(5, 10_000, { account: 'B' })); // 1
    m.ok(m.buy(10, 9_900)); // 2
    const lower = m.ok(replace(2, { price: 9_800 }));
    expect(ofType(lower, 'replaced')[0]).toMatchObject({ keptPriority: false, order: { price: 9_800 } });
    expect(m.cash('A').reserved).toBe(98_000 + 196);
    const cross = m.ok(replace(2, { price: 10_000 }));
    expect(kinds(cross).slice(0, 4)).toEqual(['replaced', 'trade', 'fill', 'fill']);
    expect(ofType(cross, 'trade')[0]).toMatchObject({ price: 10_000, qty: 5, aggressor: 'buy', buyFee: 100 });
    expect(m.x.order(2)).toMatchObject({ price: 10_000, filledQty: 5, status: 'partially_filled' });
    expect(m.cash('A').reserved).toBe(50_000 + 100);
    expect(ofType(cross, 'book_changed').map((b) => [b.side, b.price, b.qty])).toEqual([
      ['buy', 9_800, 0],
      ['sell', 10_000, 0],
      ['buy', 10_000, 5],
    ]);
  });

  it('qty is the new total: it must stay above what is already filled', () => {
    const m = market();
    m.ok(m.sell(4, 10_000, { account: 'B' }));
    m.ok(m.buy(10, 10_000)); // 2: 4 filled, 6 resting
    m.rejects(replace(2, { qty: 4 }), 'invalid_replace');
    m.rejects(replace(2, { qty: 0 }), 'invalid_replace');
    m.rejects(replace(2, { qty: 5.5 }), 'invalid_replace');
    m.rejects(replace(2, {}), 'invalid_replace');
    const events = m.ok(replace(2, { qty: 5 }));
    expect(ofType(events, 'replaced')[0]).toMatchObject({
      keptPriority: true,
      order: { qty: 5, filledQty: 4 },
    });
    expect(m.x.depth('ACME', 1).bids).toEqual([{ price: 10_000, qty: 1, orders: 1 }]);
  });

  it('is refused when the new holding is not available, leaving the order unchanged', () => {
    const m = market({ fund: false });
    m.deposit('D', 100_000);
    m.ok(m.buy(9, 10_000, { account: 'D' })); // holds 90,180
    m.rejects(replace(1, { qty: 10 }, 'D'), 'insufficient_funds'); // would need 100,200
    m.deposit('E', 1);
    m.shares('E', 10, 0);
    m.ok(m.sell(10, 11_000, { account: 'E' })); // 2
    m.rejects(replace(2, { qty: 11 }, 'E'), 'insufficient_shares');
    expect(m.x.order(1)).toMatchObject({ qty: 9 });
  });

  it('is refused for another account, a finished order, an off-tick or out-of-band price, and during a halt', () => {
    const m = market({ spec: { tickSize: 5, priceBandBps: 1_000 } });
    m.ok(m.buy(10, 9_900)); // 1
    m.rejects(replace(1, { price: 9_800 }, 'B'), 'not_owner');
    m.rejects(replace(1, { price: 9_801 }), 'off_tick');
    m.rejects(replace(1, { price: 8_995 }), 'outside_price_band');
    m.rejects(replace(9, { price: 9_800 }), 'unknown_order');
    m.ok({ type: 'halt', ts: 1, symbol: 'ACME', halted: true });
    m.rejects(replace(1, { price: 9_800 }), 'symbol_halted');
  });
});
