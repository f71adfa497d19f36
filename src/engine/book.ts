/**
 * The visible book: resting limit orders by price level, in time priority. Every change marks the
 * level as touched so the command reports it once in a book_changed event.
 */
import { touchLevel } from './context.ts';
import { dequeue, enqueue } from './ladder.ts';
import type { Engine, Ladder, Order } from './model.ts';

export function ownSide(o: Order): Ladder {
  return o.isBuy ? o.book.bids : o.book.asks;
}

export function oppositeSide(o: Order): Ladder {
  return o.isBuy ? o.book.asks : o.book.bids;
}

/** Put an order at the back of its price level. */
export function rest(e: Engine, o: Order): void {
  touchLevel(e, enqueue(ownSide(o), o.price, o));
}

/** Take an order off the book (cancel, expiry, completion, or a replace that loses priority). */
export function unrest(e: Engine, o: Order): void {
  touchLevel(e, dequeue(o));
}

/** A resting order's open quantity went down by `qty` (a fill, or a replace that keeps priority). */
export function shrinkResting(e: Engine, o: Order, qty: number): void {
  const level = o.level!;
  level.qty -= qty;
  touchLevel(e, level);
}
