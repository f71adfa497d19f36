/**
 * Book depth as committed. The engine runs up to one batch ahead of the database; showing its
 * book would show liquidity that a failed commit could still take back. This view is seeded from
 * the engine right after recovery (when engine = database) and then moves only with the
 * book_changed events of committed batches.
 */
import type { Side } from '../../domain/exchange.ts';
import type { Exchange } from '../../engine/api.ts';
import type { BookDepth, DepthLevel } from './model.ts';

interface Level {
  qty: number;
  orders: number;
}

interface SymbolBook {
  bids: Map<number, Level>;
  asks: Map<number, Level>;
}

/** deep enough for any book we seed from; the engine slices, so this allocates nothing extra */
const ALL_LEVELS = 1_000_000;

export interface CommittedBook {
  /** A level as it stands after a committed command; qty 0 removes it. */
  set(symbol: string, side: Side, price: number, qty: number, orders: number): void;
  depth(symbol: string, levels: number, seq: number): BookDepth;
  has(symbol: string): boolean;
}

export function committedBookOf(engine: Exchange): CommittedBook {
  const books = new Map<string, SymbolBook>();
  const bookOf = (symbol: string): SymbolBook => {
    let book = books.get(symbol);
    if (!book) books.set(symbol, (book = { bids: new Map(), asks: new Map() }));
    return book;
  };
  for (const instrument of engine.instruments()) {
    const symbol = instrument.spec.symbol;
    const book = bookOf(symbol);
    const depth = engine.depth(symbol, ALL_LEVELS);
    for (const l of depth.bids) book.bids.set(l.price, { qty: l.qty, orders: l.orders });
    for (const l of depth.asks) book.asks.set(l.price, { qty: l.qty, orders: l.orders });
  }

  return {
    set(symbol, side, price, qty, orders) {
      const book = bookOf(symbol);
      const levels = side === 'buy' ? book.bids : book.asks;
      if (qty === 0) levels.delete(price);
      else levels.set(price, { qty, orders });
    },
    has: (symbol) => books.has(symbol),
    depth(symbol, levels, seq) {
      const book = books.get(symbol);
      const pick = (m: Map<number, Level> | undefined, descending: boolean): DepthLevel[] => {
        if (!m) return [];
        const prices = [...m.keys()].sort((a, b) => (descending ? b - a : a - b)).slice(0, levels);
        return prices.map((price) => {
          const l = m.get(price)!;
          return { price, qty: l.qty, orders: l.orders };
        });
      };
      return { symbol, bids: pick(book?.bids, true), asks: pick(book?.asks, false), seq };
    },
  };
}
