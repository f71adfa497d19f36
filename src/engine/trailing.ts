/**
 * Trailing stops. A trailing stop is a stop (it triggers as a market order with a collar) whose stop
 * price follows the market: a sell tracks the highest trade price since it started tracking (its
 * high-water mark, `hwm`) and stops at hwm − trail; a buy tracks the lowest and stops at hwm + trail.
 * The trail is a price in ticks or basis points of the hwm (stops rounded to the tick grid away from
 * the market). With an activation price it does not track (and cannot trigger) until the last price
 * reaches it (sell: >=, buy: <=); until then its stopPrice is 0 and it sits in no stop queue.
 *
 * Tracking trailing stops sit in the ordinary stop queues at their current stop price, so the
 * trigger path is the stops' own. Each book also keeps them in a set, updated on every trade of the
 * symbol before stops are collected: the cost of a trade grows with the number of trailing stops
 * waiting on that symbol, which is the price of a stop that moves.
 *
 * A buy's stop price only goes down as it tracks, so its reservation (at the collar of the stop
 * price) only shrinks: it is recomputed on every move, and before activation it is sized for the
 * highest stop it can start with, the one of the activation price.
 */
import { hold } from './accounts.ts';
import { orderView } from './context.ts';
import type { Book, Engine, Order } from './model.ts';
import { buyCollar, trailingLimit, trailStop } from './risk.ts';
import { addStop, removeStop } from './stops.ts';

/** Whether `last` reaches the activation price (0: no activation price, always). */
export function activationHolds(isBuy: boolean, activationPrice: number, last: number): boolean {
  return activationPrice === 0 || (isBuy ? last <= activationPrice : last >= activationPrice);
}

/**
 * Set a new (accepted or released) trailing stop going against the current reference price: it
 * tracks from there, or waits for its activation price. The caller holds for it and checks whether
 * it triggers at once.
 */
export function startTrailing(o: Order): void {
  const book = o.book;
  book.trailing.add(o);
  const ref = book.referencePrice;
  if (activationHolds(o.isBuy, o.activationPrice, ref)) {
    o.hwm = ref;
    o.stopPrice = trailStop(book, o.isBuy, o.trailPrice, o.trailBps, ref);
    addStop(o);
  }
  o.limit = trailingLimit(book, o.isBuy, o);
}

/** A trailing stop stops trailing: it triggered or closed. */
export function stopTrailing(o: Order): void {
  o.book.trailing.delete(o);
}

/** After a trade at `price` (and before stops are collected): move every trailing stop it moves. */
export function trackTrade(e: Engine, book: Book, price: number): void {
  if (book.trailing.size === 0) return;
  for (const o of book.trailing) {
    const isBuy = o.isBuy;
    if (o.hwm === 0) {
      if (!activationHolds(isBuy, o.activationPrice, price)) continue;
    } else if (isBuy ? price >= o.hwm : price <= o.hwm) {
      continue;
    }
    o.hwm = price;
    o.updatedAt = e.ts;
    const stop = trailStop(book, isBuy, o.trailPrice, o.trailBps, price);
    if (stop !== o.stopPrice || o.level === null) {
      if (o.level !== null) removeStop(o);
      o.stopPrice = stop;
      addStop(o);
      if (isBuy) {
        o.limit = buyCollar(book, stop);
        hold(e, o);
      }
    }
    e.events.push({ type: 'trailed', order: orderView(o) });
  }
}
