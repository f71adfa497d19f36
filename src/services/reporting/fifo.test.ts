/** The streaming FIFO ledger agrees with the shared fifoPnl on any long-only fill sequence. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Fill, fifoPnl } from '../../domain/analytics/index.ts';
import { FifoLedger, lotCost } from './fifo.ts';

const fillsArb = fc
  .array(
    fc.record({
      buy: fc.boolean(),
      qty: fc.integer({ min: 1, max: 500 }),
      price: fc.integer({ min: 1, max: 100_000 }),
      fee: fc.integer({ min: 0, max: 5_000 }),
    }),
    { maxLength: 60 },
  )
  .map((raw) => {
    // long only: a sell never exceeds what is held
    let held = 0;
    const fills: Fill[] = [];
    raw.forEach((r, i) => {
      if (r.buy || held === 0) {
        fills.push({ ts: i, side: 'buy', qty: r.qty, price: r.price, fee: r.fee });
        held += r.qty;
      } else {
        const qty = Math.min(r.qty, held);
        fills.push({ ts: i, side: 'sell', qty, price: r.price, fee: r.fee });
        held -= qty;
      }
    });
    return fills;
  });

describe('FifoLedger', () => {
  it('matches fifoPnl: realised, open lots and their cost, unrealised at a mark', () => {
    fc.assert(
      fc.property(fillsArb, fc.integer({ min: 1, max: 100_000 }), (fills, mark) => {
        const ledger = new FifoLedger();
        let realised = 0;
        for (const f of fills) {
          if (f.side === 'buy') ledger.buy('X', f.ts, f.qty, f.price, f.fee);
          else realised += ledger.sell('X', f.ts, f.qty, f.price, f.fee).pnl;
        }
        const expected = fifoPnl(fills, mark);
        const lots = ledger.book('X').lots;
        expect(realised).toBe(expected.realised);
        expect(ledger.book('X').realised).toBe(expected.realised);
        expect(lots.map((l) => [l.qty, l.price, l.openedAt, lotCost(l)])).toEqual(
          expected.openLots.map((l) => [l.qty, l.price, l.ts, l.cost]),
        );
        const unrealised = lots.reduce((s, l) => s + l.qty * mark - lotCost(l), 0);
        expect(unrealised).toBe(expected.unrealised);
      }),
    );
  });

  it('keeps every cent of a transfer’s cost and realises nothing on a transfer out', () => {
    const ledger = new FifoLedger();
    // 333 a share + 1 cent carried like a fee, which goes with the first share out
    ledger.transferIn('X', 0, 3, 1_000);
    expect(lotCost(ledger.book('X').lots[0]!)).toBe(1_000);
    ledger.transferOut('X', 1);
    expect(lotCost(ledger.book('X').lots[0]!)).toBe(666);
    expect(ledger.book('X').realised).toBe(0);
    expect(ledger.sell('X', 1, 2, 500, 0)).toMatchObject({ proceeds: 1_000, cost: 666, pnl: 334 });
    expect(ledger.book('X').lots).toEqual([]);
  });
});
