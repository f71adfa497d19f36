/**
 * Stop queues. Untriggered stops wait per symbol and side in a ladder keyed by stop price, in
 * trigger order: buy stops from the lowest stop price (they trigger when last >= stop), sell stops
 * from the highest (when last <= stop), each price level first come first served.
 *
 * Invariant between commands: every waiting buy stop is above the last price and every waiting sell
 * stop below it (a stop whose condition holds triggers at once). A trade at price p therefore only
 * needs to look at the best end of each queue.
 */
import { bestLevel, dequeue, enqueue } from './ladder.ts';
import type { Book, Engine, Order } from './model.ts';

export function addStop(o: Order): void {
  enqueue(o.isBuy ? o.book.buyStops : o.book.sellStops, o.stopPrice, o);
}

export function removeStop(o: Order): void {
  dequeue(o);
}

/** After a trade at `price`: move every stop it triggers, in trigger order, to the command's queue. */
export function collectTriggered(e: Engine, book: Book, price: number): void {
  let level = bestLevel(book.buyStops);
  while (level !== null && level.price <= price) {
    while (level.head !== null) {
      const o = level.head;
      dequeue(o);
      e.triggered.push(o);
    }
    level = bestLevel(book.buyStops);
  }
  level = bestLevel(book.sellStops);
  while (level !== null && level.price >= price) {
    while (level.head !== null) {
      const o = level.head;
      dequeue(o);
      e.triggered.push(o);
    }
    level = bestLevel(book.sellStops);
  }
}
