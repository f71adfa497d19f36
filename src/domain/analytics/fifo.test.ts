import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type ClosedTrade, type Fill, fifoPnl, type OpenLot } from './fifo.ts';

describe('fifoPnl: hand-computed', () => {
  const fills: Fill[] = [
    { ts: 1, side: 'buy', qty: 10, price: 1000, fee: 3 },
    { ts: 2, side: 'buy', qty: 5, price: 1200, fee: 7 },
    { ts: 3, side: 'sell', qty: 4, price: 1500, fee: 2 },
    { ts: 4, side: 'sell', qty: 8, price: 1100, fee: 5 },
  ];

  it('splits fees with the rounding remainder on the pieces closed first', () => {
    // sell 4 from lot 1 (10 @ 1000, fee 3): lot keeps floor(3 × 6/10) = 1, piece takes 2;
    //   pnl 4 × 500 − 2 − 2 = 1996
    // sell 8 (fee 5): 6 from lot 1 (buy fee 1; sell fee 5 − floor(5 × 2/8) = 4): 600 − 1 − 4 = 595
    //   then 2 from lot 2 (5 @ 1200, fee 7; lot keeps floor(7 × 3/5) = 4, piece 3; sell fee 1):
    //   −200 − 3 − 1 = −204
    // open: 3 @ 1200 carrying fee 4, cost 3604; at 1300: 3900 − 3604 = 296
    const r = fifoPnl(fills, 1300);
    expect(r.closedTrades).toEqual([
      { qty: 4, buyPrice: 1000, sellPrice: 1500, buyFee: 2, sellFee: 2, pnl: 1996, openedAt: 1, closedAt: 3 },
      { qty: 6, buyPrice: 1000, sellPrice: 1100, buyFee: 1, sellFee: 4, pnl: 595, openedAt: 1, closedAt: 4 },
      { qty: 2, buyPrice: 1200, sellPrice: 1100, buyFee: 3, sellFee: 1, pnl: -204, openedAt: 2, closedAt: 4 },
    ]);
    expect(r.realised).toBe(2387);
    expect(r.openLots).toEqual([{ qty: 3, price: 1200, ts: 2, fee: 4, cost: 3604 }]);
    expect(r.position).toBe(3);
    expect(r.costBasis).toBe(3604);
    expect(r.unrealised).toBe(296);
    // conservation: proceeds 5998 + 8795 − buy cost (10003 + 6007) = −1217 = 2387 − 3604
    expect(r.realised - r.costBasis).toBe(5998 + 8795 - 16010);
  });

  it('without a mark there is no unrealised P&L; no fills, nothing', () => {
    expect(fifoPnl(fills).unrealised).toBeNull();
    expect(fifoPnl([], 100)).toEqual({
      openLots: [],
      position: 0,
      costBasis: 0,
      realised: 0,
      unrealised: 0,
      closedTrades: [],
    });
  });

  it('refuses shorts and bad fills', () => {
    expect(() => fifoPnl([{ ts: 1, side: 'sell', qty: 1, price: 100, fee: 0 }])).toThrow(
      /exceeds the 0 shares/,
    );
    expect(() => fifoPnl([...fills, { ts: 5, side: 'sell', qty: 4, price: 1, fee: 0 }])).toThrow(
      /fill 4: sell of 4 exceeds the 3 shares/,
    );
    expect(() => fifoPnl([{ ts: 1, side: 'buy', qty: 1.5, price: 100, fee: 0 }])).toThrow(/qty/);
    expect(() => fifoPnl([{ ts: 1, side: 'buy', qty: 1, price: 100.5, fee: 0 }])).toThrow(/price/);
    expect(() => fifoPnl([{ ts: 1, side: 'buy', qty: 1, price: 100, fee: -1 }])).toThrow(/fee/);
    expect(() => fifoPnl([fills[1]!, fills[0]!])).toThrow(/execution order/);
    expect(() => fifoPnl(fills, 12.5)).toThrow(/markPrice/);
  });
});

// ---- brute force: every share is its own lot ---------------------------------------------------

/** The fee carried by unit u (1-based) of n units sharing fee f, by the documented cumulative rule. */
const unitFee = (f: number, n: number, u: number) =>
  Math.floor((f * (n - u + 1)) / n) - Math.floor((f * (n - u)) / n);

interface Share {
  buy: number;
  price: number;
  ts: number;
  fee: number;
}

function bruteForce(fills: Fill[], mark: number) {
  const queue: Share[] = [];
  const pieces: (ClosedTrade & { buy: number; sell: number })[] = [];
  fills.forEach((f, i) => {
    for (let u = 1; u <= f.qty; u++) {
      if (f.side === 'buy') {
        queue.push({ buy: i, price: f.price, ts: f.ts, fee: unitFee(f.fee, f.qty, u) });
        continue;
      }
      const s = queue.shift()!;
      const sellFee = unitFee(f.fee, f.qty, u);
      const last = pieces[pieces.length - 1];
      const pnl = f.price - s.price - s.fee - sellFee;
      if (last && last.buy === s.buy && last.sell === i) {
        last.qty++;
        last.buyFee += s.fee;
        last.sellFee += sellFee;
        last.pnl += pnl;
      } else {
        pieces.push({
          buy: s.buy,
          sell: i,
          qty: 1,
          buyPrice: s.price,
          sellPrice: f.price,
          buyFee: s.fee,
          sellFee,
          pnl,
          openedAt: s.ts,
          closedAt: f.ts,
        });
      }
    }
  });
  const lots: (OpenLot & { buy: number })[] = [];
  for (const s of queue) {
    const last = lots[lots.length - 1];
    if (last && last.buy === s.buy) {
      last.qty++;
      last.fee += s.fee;
      last.cost += s.price + s.fee;
    } else lots.push({ buy: s.buy, qty: 1, price: s.price, ts: s.ts, fee: s.fee, cost: s.price + s.fee });
  }
  return {
    closedTrades: pieces.map(({ buy, sell, ...t }) => t),
    openLots: lots.map(({ buy, ...l }) => l),
    realised: pieces.reduce((s, p) => s + p.pnl, 0),
    unrealised: queue.reduce((s, sh) => s + mark - sh.price - sh.fee, 0),
    position: queue.length,
  };
}

/** Long-only fill sequences: a sell never exceeds what is held. */
const arbFills = fc
  .array(
    fc.record({
      sell: fc.boolean(),
      qty: fc.integer({ min: 1, max: 40 }),
      price: fc.integer({ min: 0, max: 200_000 }),
      fee: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 3000 })),
      dt: fc.integer({ min: 0, max: 2 }),
    }),
    { maxLength: 40 },
  )
  .map((rows) => {
    let position = 0;
    let ts = 1_700_000_000_000;
    return rows.map(({ sell, qty, price, fee, dt }): Fill => {
      ts += dt;
      if (sell && position > 0) {
        const q = Math.min(qty, position);
        position -= q;
        return { ts, side: 'sell', qty: q, price, fee };
      }
      position += qty;
      return { ts, side: 'buy', qty, price, fee };
    });
  });
const arbMark = fc.integer({ min: 0, max: 200_000 });

describe('fifoPnl: properties', () => {
  it('agrees exactly with the share-by-share model', () => {
    fc.assert(
      fc.property(arbFills, arbMark, (fills, mark) => {
        const r = fifoPnl(fills, mark);
        const b = bruteForce(fills, mark);
        expect(r.closedTrades).toEqual(b.closedTrades);
        expect(r.openLots).toEqual(b.openLots);
        expect(r.realised).toBe(b.realised);
        expect(r.unrealised).toBe(b.unrealised);
        expect(r.position).toBe(b.position);
      }),
    );
  });

  it('conserves money: realised − open cost basis = sell proceeds − buy cost, to the cent', () => {
    fc.assert(
      fc.property(arbFills, arbMark, (fills, mark) => {
        const r = fifoPnl(fills, mark);
        const sum = (side: 'buy' | 'sell', f: (x: Fill) => number) =>
          fills.filter((x) => x.side === side).reduce((s, x) => s + f(x), 0);
        const proceeds = sum('sell', (x) => x.qty * x.price - x.fee);
        const cost = sum('buy', (x) => x.qty * x.price + x.fee);
        expect(r.realised - r.costBasis).toBe(proceeds - cost);
        expect(r.realised).toBe(r.closedTrades.reduce((s, t) => s + t.pnl, 0));
        expect(r.unrealised).toBe(r.position * mark - r.costBasis);
        expect(r.position).toBe(sum('buy', (x) => x.qty) - sum('sell', (x) => x.qty));
        expect(r.openLots.reduce((s, l) => s + l.qty, 0)).toBe(r.position);
        for (const v of [r.realised, r.costBasis, r.unrealised!]) expect(Number.isInteger(v)).toBe(true);
      }),
    );
  });

  it('every fee piece is within one cent of its exact proportional share', () => {
    fc.assert(
      fc.property(arbFills, (fills) => {
        const r = fifoPnl(fills);
        const byTime = (ts: number, side: 'buy' | 'sell') =>
          fills.filter((f) => f.ts === ts && f.side === side);
        for (const t of r.closedTrades) {
          const sells = byTime(t.closedAt, 'sell');
          const buys = byTime(t.openedAt, 'buy');
          // fills at the same ts are ambiguous here; check the unambiguous ones
          if (sells.length === 1)
            expect(Math.abs(t.sellFee - (sells[0]!.fee * t.qty) / sells[0]!.qty)).toBeLessThan(1);
          if (buys.length === 1)
            expect(Math.abs(t.buyFee - (buys[0]!.fee * t.qty) / buys[0]!.qty)).toBeLessThan(1);
        }
      }),
    );
  });

  it('an oversized sell throws and names the position', () => {
    fc.assert(
      fc.property(arbFills, fc.integer({ min: 1, max: 10 }), (fills, extra) => {
        const held = fifoPnl(fills).position;
        const ts = fills.length === 0 ? 0 : fills[fills.length - 1]!.ts;
        expect(() => fifoPnl([...fills, { ts, side: 'sell', qty: held + extra, price: 1, fee: 0 }])).toThrow(
          `exceeds the ${held} shares held`,
        );
      }),
    );
  });

  it('stays exact where floats would not: fee × shares beyond 2^53', () => {
    // fee 2 996 428 007 001 = 7001 × 428 000 001 on 7001 shares; selling 3000 leaves 4001 open,
    // carrying exactly 428 000 001 × 4001. In doubles fee × 4001 (≈ 1.2 × 10^16 > 2^53) rounds
    // down to just below a multiple of 7001 and the floor comes out one cent short.
    const fee = 2_996_428_007_001;
    expect(Math.floor((fee * 4001) / 7001)).toBe(1_712_428_004_000); // the float trap this avoids
    const r = fifoPnl(
      [
        { ts: 1, side: 'buy', qty: 7001, price: 1000, fee },
        { ts: 2, side: 'sell', qty: 3000, price: 1000, fee: 0 },
      ],
      1000,
    );
    expect(r.openLots[0]!.fee).toBe(428_000_001 * 4001);
    expect(r.closedTrades[0]!.buyFee).toBe(428_000_001 * 3000);
    expect(r.realised - r.costBasis).toBe(3000 * 1000 - (7001 * 1000 + fee));
    expect(() => fifoPnl([{ ts: 1, side: 'buy', qty: 10_000_000, price: 1e12, fee: 0 }])).toThrow(
      /safe integer/,
    );
  });
});
