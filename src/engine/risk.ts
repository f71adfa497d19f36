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
import { BPS, buyReservation, collarDown, collarUp } from './arith.ts';
import type { Book, Order } from './model.ts';
import { leaves } from './model.ts';

export function buyCollar(book: Book, ref: number): number {
  return collarUp(ref, book.spec.collarBps, book.spec.tickSize);
}

export function sellCollar(book: Book, ref: number): number {
  return collarDown(ref, book.spec.collarBps, book.spec.tickSize);
}

/**
 * What the order holds now, from its leaves and current limit: cents (buy) or shares (sell). A held
 * exit leg holds what its entry will hand it (see heldNeed). Two legs of a one-cancels-other pair
 * hold once between them, the larger of their needs (accounts.ts `hold`).
 */
export function requiredHolding(o: Order): number {
  const parent = o.parent;
  if (parent !== null) return heldNeed(o.isBuy, o.limit, o.book.reserveBps, parent.qty, parent.filledQty);
  return o.isBuy ? buyReservation(leaves(o), o.limit, o.book.reserveBps) : leaves(o);
}

/**
 * A held exit leg's need. A sell leg (its entry buys) holds the shares the entry has bought so far:
 * they are its to sell, and nothing else may take them. A buy leg (its entry sells) holds cash for
 * the whole entry at once, checked when the bracket is placed, since the sale's proceeds may not
 * cover buying back at the stop.
 */
export function heldNeed(
  isBuy: boolean,
  limit: number,
  bps: number,
  parentQty: number,
  parentFilled: number,
): number {
  return isBuy ? buyReservation(parentQty, limit, bps) : parentFilled;
}

/**
 * The same, recomputed from the order's public fields only (not from the cached `limit`), for
 * invariant checks: an open order is a resting limit / stop-limit or an untriggered stop.
 */
export function requiredHoldingFromScratch(o: Order): number {
  const price = !o.isBuy
    ? 0
    : o.orderType === 'limit' || o.orderType === 'stop_limit'
      ? o.price
      : o.orderType === 'stop' && !o.triggered
        ? buyCollar(o.book, o.stopPrice)
        : o.orderType === 'trailing_stop' && !o.triggered
          ? trailingLimit(o.book, true, o)
          : o.limit;
  const parent = o.parent;
  if (parent !== null) return heldNeed(o.isBuy, price, o.book.reserveBps, parent.qty, parent.filledQty);
  return o.isBuy ? buyReservation(leaves(o), price, o.book.reserveBps) : leaves(o);
}

/** The stop price of a trailing stop whose high-water mark is `hwm`, on the tick grid away from the market. */
export function trailStop(
  book: Book,
  isBuy: boolean,
  trailPrice: number,
  trailBps: number,
  hwm: number,
): number {
  const tick = book.spec.tickSize;
  if (isBuy) {
    const raw = trailPrice > 0 ? hwm + trailPrice : Math.ceil((hwm * (BPS + trailBps)) / BPS);
    const rem = raw % tick;
    return rem === 0 ? raw : raw + tick - rem;
  }
  const raw = trailPrice > 0 ? hwm - trailPrice : Math.floor((hwm * (BPS - trailBps)) / BPS);
  // A trail wider than the price still leaves a stop that can trigger: the lowest tick.
  return Math.max(tick, raw - (raw % tick));
}

export interface TrailFields {
  trailPrice: number;
  trailBps: number;
  hwm: number;
  activationPrice: number;
  stopPrice: number;
}

/**
 * The limit a waiting trailing stop holds at: a buy reserves at the collar of its stop price, or,
 * while it waits for its activation price, of the highest stop it can start with (the stop of the
 * activation price: it starts at a trade at or below it); a sell holds shares (0).
 */
export function trailingLimit(book: Book, isBuy: boolean, o: TrailFields): number {
  if (!isBuy) return 0;
  const stop = o.hwm > 0 ? o.stopPrice : trailStop(book, true, o.trailPrice, o.trailBps, o.activationPrice);
  return buyCollar(book, stop);
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
