/**
 * Order classes (Alpaca's `order_class`): the legs a new order brings with it.
 *
 * - bracket: an entry (market or limit), a take-profit limit and a stop-loss (stop, stop-limit or
 *   trailing stop) on the other side, for the entry's quantity. The exits are held (status `held`,
 *   in no queue) until the entry is done: filled, or cancelled after a partial fill, which sizes
 *   them to the filled quantity (an entry cancelled before any fill cancels them, reason `parent`).
 *   Released, they work as a one-cancels-other pair. Released while their symbol cannot trade (a
 *   halt, pre-open, closed), they stay held, releasable, until it can (execution.ts runTriggered).
 * - oto: an entry and one held exit (take-profit or stop-loss).
 * - oco: a limit and a stop-loss on the same side, both working at once (they close the same
 *   position), one-cancels-other.
 * One-cancels-other: the first fill of one leg, or its cancellation (by the user, self-trade
 * prevention, a triggered stop's unfilled remainder), cancels the other leg (reason `oco`).
 *
 * Legs take the ids after the entry's (take-profit first), have the entry's time in force (day or
 * gtc only) and self-trade prevention, and name the entry as their parent. Holdings stay exact:
 * the two legs of a pair hold once between them (accounts.ts `hold`), a held sell leg holds the
 * shares its entry has bought so far, a held buy leg the cash for the whole entry (risk.ts heldNeed).
 * A trailing stop-loss leg is allowed on exits that sell (a buy entry, or an oco sell): a held buy
 * leg's reservation must be bounded when the bracket is placed, and a trailing stop's is not.
 */
import type { NewOrderCommand, OrderType, RejectReason, Side } from '../domain/exchange.ts';
import type { Book } from './model.ts';
import { buyCollar } from './risk.ts';
import { priceProblem, trailProblem } from './validation.ts';

export interface LegPlan {
  side: Side;
  orderType: OrderType;
  price: number;
  stopPrice: number;
  trailPrice: number;
  trailBps: number;
  /** the price a buy leg reserves at (see risk.ts); 0 for a sell */
  limit: number;
}

/** The legs of a new order (none for simple), or why its class does not hold together. */
export function planLegs(c: NewOrderCommand, book: Book): LegPlan[] | RejectReason {
  const cls = c.orderClass ?? 'simple';
  const tp = c.takeProfit;
  const sl = c.stopLoss;
  if (cls === 'simple') return tp === undefined && sl === undefined ? [] : 'invalid_order_class';
  if (cls !== 'bracket' && cls !== 'oto' && cls !== 'oco') return 'invalid_order_class';
  if (c.tif !== 'day' && c.tif !== 'gtc') return 'invalid_order_class';
  const spec = book.spec;
  const legs: LegPlan[] = [];
  let exitSide: Side;
  if (cls === 'oco') {
    // Alpaca's oco: the order itself is the take-profit limit, the stop-loss its other leg.
    if (c.orderType !== 'limit' || tp !== undefined || sl === undefined) return 'invalid_order_class';
    exitSide = c.side;
  } else {
    if (c.orderType !== 'market' && c.orderType !== 'limit') return 'invalid_order_class';
    const count = (tp === undefined ? 0 : 1) + (sl === undefined ? 0 : 1);
    if (cls === 'bracket' ? count !== 2 : count !== 1) return 'invalid_order_class';
    exitSide = c.side === 'buy' ? 'sell' : 'buy';
  }
  const exitBuys = exitSide === 'buy';
  if (tp !== undefined) {
    if (typeof tp !== 'object' || tp === null) return 'invalid_order_class';
    const reason = priceProblem(tp.price, spec);
    if (reason !== null) return reason;
    legs.push(leg(exitSide, 'limit', tp.price, 0, 0, 0, exitBuys ? tp.price : 0));
  }
  if (sl !== undefined) {
    if (typeof sl !== 'object' || sl === null) return 'invalid_order_class';
    const trailing = sl.trailPrice !== undefined || sl.trailBps !== undefined;
    if (trailing) {
      if (sl.stopPrice !== undefined || sl.price !== undefined) return 'invalid_order_class';
      const reason = trailProblem(sl.trailPrice, sl.trailBps, spec);
      if (reason !== null) return reason;
      // A held buy leg's cash is reserved up front; a trailing stop's is not bounded then.
      if (exitBuys && cls !== 'oco') return 'invalid_order_class';
      legs.push(leg(exitSide, 'trailing_stop', 0, 0, sl.trailPrice ?? 0, sl.trailBps ?? 0, 0));
    } else {
      const stopReason = priceProblem(sl.stopPrice, spec);
      if (stopReason !== null) return stopReason;
      const stopPrice = sl.stopPrice as number;
      if (sl.price !== undefined) {
        const reason = priceProblem(sl.price, spec);
        if (reason !== null) return reason;
        legs.push(leg(exitSide, 'stop_limit', sl.price, stopPrice, 0, 0, exitBuys ? sl.price : 0));
      } else {
        legs.push(leg(exitSide, 'stop', 0, stopPrice, 0, 0, exitBuys ? buyCollar(book, stopPrice) : 0));
      }
      // The take-profit lies on the profitable side of the stop.
      const takeProfit = cls === 'oco' ? (c.price as number) : tp?.price;
      if (takeProfit !== undefined && (exitBuys ? takeProfit >= stopPrice : takeProfit <= stopPrice)) {
        return 'invalid_order_class';
      }
    }
  }
  return legs;
}

function leg(
  side: Side,
  orderType: OrderType,
  price: number,
  stopPrice: number,
  trailPrice: number,
  trailBps: number,
  limit: number,
): LegPlan {
  return { side, orderType, price, stopPrice, trailPrice, trailBps, limit };
}
