/**
 * cancel and replace (cancel/replace, FIX 35=G) of an open order.
 *
 * Replace semantics: `qty` is the new total quantity, filled included. A pure size decrease at the
 * same prices keeps time priority (the order stays where it is); a price or stop-price change or a
 * size increase loses it (the order re-enters at the back, and may trade if it now crosses). The new
 * order is validated and risk-checked like a new one (only the difference in holdings must be
 * available); if anything fails the order is left exactly as it was.
 */
import type { CancelCommand, RejectReason, ReplaceCommand } from '../domain/exchange.ts';
import { setHolding } from './accounts.ts';
import { buyReservation, isPositiveInt, MAX_NOTIONAL, MAX_QTY, outsideBand } from './arith.ts';
import { shrinkResting, unrest } from './book.ts';
import { orderView } from './context.ts';
import { activate, execute, runTriggered } from './execution.ts';
import { fillableQty, wouldTake } from './matching.ts';
import { type Engine, isWaitingStop } from './model.ts';
import { findOrder } from './order-index.ts';
import { cancelOrder } from './orders.ts';
import { buyCollar, stopHolds, stopLimitAtTrigger } from './risk.ts';
import { addStop, removeStop } from './stops.ts';
import { priceProblem, sizeProblem, tradingProblem } from './validation.ts';

/** An id that is not open: known to have been an order (ids increase), or never seen. */
function notOpen(e: Engine, id: number): RejectReason {
  return Number.isSafeInteger(id) && id > 0 && id <= e.lastOrderId ? 'order_not_open' : 'unknown_order';
}

/** Cancels are allowed in every session and during halts: they only reduce risk. */
export function cancel(e: Engine, c: CancelCommand): RejectReason | null {
  const o = findOrder(e.orders, c.id);
  if (o === undefined) return notOpen(e, c.id);
  if (o.accountId !== c.account) return 'not_owner';
  cancelOrder(e, o, 'user');
  return null;
}

export function replace(e: Engine, c: ReplaceCommand): RejectReason | null {
  const o = findOrder(e.orders, c.id);
  if (o === undefined) return notOpen(e, c.id);
  if (o.accountId !== c.account) return 'not_owner';
  const book = o.book;
  const spec = book.spec;
  const marketReason = tradingProblem(e, book);
  if (marketReason !== null) return marketReason;
  const waitingStop = isWaitingStop(o);
  // A stop could trigger and trade on replace, which pre-open forbids.
  if (e.session === 'pre_open' && waitingStop) return 'not_allowed_pre_open';
  if (c.qty === undefined && c.price === undefined && c.stopPrice === undefined) {
    return 'invalid_replace';
  }

  const qty = c.qty ?? o.qty;
  if (!isPositiveInt(qty) || qty > MAX_QTY || qty <= o.filledQty) return 'invalid_replace';
  const sizeReason = sizeProblem(qty, spec);
  if (sizeReason !== null) return sizeReason;
  let price = o.price;
  if (c.price !== undefined) {
    if (o.orderType !== 'limit' && o.orderType !== 'stop_limit') return 'invalid_replace';
    const reason = priceProblem(c.price, spec);
    if (reason !== null) return reason;
    price = c.price;
  }
  let stopPrice = o.stopPrice;
  if (c.stopPrice !== undefined) {
    if (!waitingStop) return 'invalid_replace';
    const reason = priceProblem(c.stopPrice, spec);
    if (reason !== null) return reason;
    stopPrice = c.stopPrice;
  }
  const ref = book.referencePrice;
  // An unchanged price is not re-banded: the band guards new prices, not orders the market moved away from.
  if (price !== o.price && outsideBand(price, ref, spec.priceBandBps)) return 'outside_price_band';

  const isBuy = o.isBuy;
  const keepsPriority = price === o.price && stopPrice === o.stopPrice && qty <= o.qty;
  const limit = o.orderType === 'stop' ? (isBuy ? buyCollar(book, stopPrice) : 0) : price;
  const newLeaves = qty - o.filledQty;
  if (newLeaves * (isBuy ? limit : price) > MAX_NOTIONAL) return 'invalid_replace';
  // Waiting stops satisfy "not triggered" with their current stop price, so only a new one can trigger.
  const triggersNow = waitingStop && stopHolds(isBuy, stopPrice, ref);
  const meetsBookNow = !keepsPriority && (!waitingStop || triggersNow);
  const takeLimit = o.orderType === 'stop' && triggersNow ? stopLimitAtTrigger(book, isBuy, limit) : limit;
  if (meetsBookNow && (e.session === 'pre_open' || o.postOnly) && wouldTake(book, isBuy, takeLimit)) {
    return e.session === 'pre_open' ? 'not_allowed_pre_open' : 'post_only_would_take';
  }
  const holding = isBuy ? buyReservation(newLeaves, limit, book.reserveBps) : newLeaves;
  const extra = holding - o.reserved;
  if (extra > 0) {
    if (isBuy) {
      if (extra > o.account.cash - o.account.reserved) return 'insufficient_funds';
    } else {
      const p = o.position!;
      if (extra > p.qty - p.reserved) return 'insufficient_shares';
    }
  }
  if (
    meetsBookNow &&
    o.tif === 'fok' &&
    fillableQty(book, isBuy, takeLimit, o.account, o.stp, newLeaves) < newLeaves
  ) {
    return 'fok_not_fillable';
  }

  o.updatedAt = e.ts;
  if (keepsPriority) {
    const shrink = o.qty - qty;
    if (shrink > 0 && o.level !== null) {
      if (waitingStop) o.level.qty -= shrink;
      else shrinkResting(e, o, shrink);
    }
    o.qty = qty;
    setHolding(e, o, holding);
    e.events.push({ type: 'replaced', order: orderView(o), keptPriority: true });
  } else {
    if (o.level !== null) {
      if (waitingStop) removeStop(o);
      else unrest(e, o);
    }
    o.qty = qty;
    o.price = price;
    o.stopPrice = stopPrice;
    o.limit = limit;
    setHolding(e, o, holding);
    e.events.push({ type: 'replaced', order: orderView(o), keptPriority: false });
    if (!waitingStop) execute(e, o);
    else if (triggersNow) activate(e, o);
    else addStop(o);
  }
  runTriggered(e);
  return null;
}
