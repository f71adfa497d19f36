/**
 * What an open order must hold, and the price limits that make those holdings sufficient.
 *
 * A sell holds its leaves in shares. A buy holds leaves × P + fee(leaves × P, max(maker, taker))
 * where P is the highest price it can ever pay:
 * - limit and stop-limit: the limit price;
 * - market: the buy collar at entry (it trades only inside the collar and never rests);
 * - stop, untriggered: the collar computed from the stop price; at trigger its limit becomes the
 *   lower of that and the collar of the moment, so the reservation still covers it.
 * Fills are at prices <= P and fees round down (superadditive), so releasing the reservation of the
 * filled part always covers what the fill costs: available cash never goes negative.
 */
import { buyReservation, collarDown, collarUp } from './arith.ts';
import type { Book, Order } from './model.ts';
import { leaves } from './model.ts';

export function buyCollar(book: Book, ref: number): number {
  return collarUp(ref, book.spec.collarBps, book.spec.tickSize);
}

export function sellCollar(book: Book, ref: number): number {
  return collarDown(ref, book.spec.collarBps, book.spec.tickSize);
}

/** What the order holds now, from its leaves and current limit: cents (buy) or shares (sell). */
export function requiredHolding(o: Order): number {
  return o.isBuy ? buyReservation(leaves(o), o.limit, o.book.reserveBps) : leaves(o);
}

/**
 * The same, recomputed from the order's public fields only (not from the cached `limit`), for
 * invariant checks: an open order is a resting limit / stop-limit or an untriggered stop.
 */
export function requiredHoldingFromScratch(o: Order): number {
  if (!o.isBuy) return leaves(o);
  const price =
    o.orderType === 'limit' || o.orderType === 'stop_limit'
      ? o.price
      : o.orderType === 'stop' && !o.triggered
        ? buyCollar(o.book, o.stopPrice)
        : o.limit;
  return buyReservation(leaves(o), price, o.book.reserveBps);
}

/**
 * The limit a stop (market) order trades with once triggered: the collar of the moment, and for a
 * buy never above `entryLimit`, the collar of its stop price that its reservation was sized for.
 */
export function stopLimitAtTrigger(book: Book, isBuy: boolean, entryLimit: number): number {
  const ref = book.referencePrice;
  return isBuy ? Math.min(entryLimit, buyCollar(book, ref)) : sellCollar(book, ref);
}

/** Stops trigger on the last trade price (the reference price before the first trade). */
export function stopHolds(isBuy: boolean, stopPrice: number, last: number): boolean {
  return isBuy ? last >= stopPrice : last <= stopPrice;
}
