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
import { hold } from './accounts.ts';
import { buyReservation, isPositiveInt, MAX_NOTIONAL, MAX_QTY, outsideBand } from './arith.ts';
import { shrinkResting, unrest } from './book.ts';
import { orderView } from './context.ts';
import { activate, execute, runTriggered } from './execution.ts';
import { fillableQty, wouldTake } from './matching.ts';
import { type Engine, isMarketStop, isWaitingStop, type Order } from './model.ts';
import { findOrder } from './order-index.ts';
import { cancelOrder } from './orders.ts';
import {
  buyCollar,
  heldNeed,
  requiredHolding,
  stopHolds,
  stopLimitAtTrigger,
  trailingLimit,
  trailStop,
} from './risk.ts';
import { addStop, removeStop } from './stops.ts';
import { priceProblem, sizeProblem, tradingProblem, trailProblem } from './validation.ts';

/** An id that is not open: known to have been an order (ids increase), or never seen. */
function notOpen(e: Engine, id: number): RejectReason {
  return Number.isSafeInteger(id) && id > 0 && id <= e.lastOrderId ? 'order_not_open' : 'unknown_order';
}

/**
 * Cancels are allowed in every session and during halts: they only reduce risk. Cancelling a leg
 * cancels its other leg; cancelling an entry cancels its held legs, or releases them sized to what
 * it filled (classes.ts).
 */
export function cancel(e: Engine, c: CancelCommand): RejectReason | null {
  const o = findOrder(e.orders, c.id);
  if (o === undefined) return notOpen(e, c.id);
  if (o.accountId !== c.account) return 'not_owner';
  cancelOrder(e, o, 'user');
  runTriggered(e);
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
  const parent = o.parent;
  // A held leg (with its entry, or releasable: see execution.ts runTriggered) does not work yet.
  const held = o.status === 'held';
  const isTrailing = o.orderType === 'trailing_stop';
  // A stop could trigger and trade on replace, which pre-open forbids.
  if (e.session === 'pre_open' && waitingStop) return 'not_allowed_pre_open';
  const newTrail = c.trailPrice !== undefined || c.trailBps !== undefined;
  if (c.qty === undefined && c.price === undefined && c.stopPrice === undefined && !newTrail) {
    return 'invalid_replace';
  }
  // A held leg's size is its entry's.
  if (parent !== null && c.qty !== undefined) return 'invalid_replace';

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
    if (!waitingStop || isTrailing) return 'invalid_replace';
    const reason = priceProblem(c.stopPrice, spec);
    if (reason !== null) return reason;
    stopPrice = c.stopPrice;
  }
  let trailPrice = o.trailPrice;
  let trailBps = o.trailBps;
  if (newTrail) {
    if (!waitingStop || !isTrailing) return 'invalid_replace';
    const reason = trailProblem(c.trailPrice, c.trailBps, spec);
    if (reason !== null) return reason;
    trailPrice = c.trailPrice ?? 0;
    trailBps = c.trailBps ?? 0;
    // The stop moves with the new trail from the same high-water mark.
    if (o.hwm > 0) stopPrice = trailStop(book, o.isBuy, trailPrice, trailBps, o.hwm);
  }
  const ref = book.referencePrice;
  // An unchanged price is not re-banded: the band guards new prices, not orders the market moved away from.
  if (price !== o.price && outsideBand(price, ref, spec.priceBandBps)) return 'outside_price_band';

  const isBuy = o.isBuy;
  const keepsPriority =
    price === o.price &&
    stopPrice === o.stopPrice &&
    trailPrice === o.trailPrice &&
    trailBps === o.trailBps &&
    qty <= o.qty;
  const limit = isTrailing
    ? trailingLimit(book, isBuy, {
        trailPrice,
        trailBps,
        hwm: o.hwm,
        activationPrice: o.activationPrice,
        stopPrice,
      })
    : o.orderType === 'stop'
      ? isBuy
        ? buyCollar(book, stopPrice)
        : 0
      : price;
  const newLeaves = qty - o.filledQty;
  if (newLeaves * (isBuy ? limit : price) > MAX_NOTIONAL) return 'invalid_replace';
  // Waiting stops satisfy "not triggered" with their current stop price, so only a new one can trigger.
  // A held leg does not work yet, and a trailing stop waiting for its activation price cannot trigger.
  const triggersNow = waitingStop && !held && (!isTrailing || o.hwm > 0) && stopHolds(isBuy, stopPrice, ref);
  const meetsBookNow = !held && !keepsPriority && (!waitingStop || triggersNow);
  const takeLimit = isMarketStop(o) && triggersNow ? stopLimitAtTrigger(book, isBuy, limit) : limit;
  if (meetsBookNow && (e.session === 'pre_open' || o.postOnly) && wouldTake(book, isBuy, takeLimit)) {
    return e.session === 'pre_open' ? 'not_allowed_pre_open' : 'post_only_would_take';
  }
  const bps = book.reserveBps;
  const own =
    parent !== null
      ? heldNeed(isBuy, limit, bps, parent.qty, parent.filledQty)
      : isBuy
        ? buyReservation(newLeaves, limit, bps)
        : newLeaves;
  // The two legs of a pair hold once, the larger need (accounts.ts hold).
  const s = o.sibling;
  const extra =
    (s === null ? own : Math.max(own, requiredHolding(s))) - o.reserved - (s === null ? 0 : s.reserved);
  if (extra > 0 && !available(o, isBuy, extra)) return isBuy ? 'insufficient_funds' : 'insufficient_shares';
  // An entry's held buy legs hold cash for its whole quantity.
  const children = o.children;
  if (children !== null && qty !== o.qty) {
    let need = 0;
    let held = 0;
    for (const leg of children) {
      need = Math.max(need, heldNeed(leg.isBuy, leg.limit, bps, qty, o.filledQty));
      held += leg.reserved;
    }
    if (need - held > 0 && !available(children[0]!, children[0]!.isBuy, need - held)) {
      return children[0]!.isBuy ? 'insufficient_funds' : 'insufficient_shares';
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
    hold(e, o);
    if (children !== null) for (const leg of children) hold(e, leg);
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
    o.trailPrice = trailPrice;
    o.trailBps = trailBps;
    hold(e, o);
    if (children !== null) for (const leg of children) hold(e, leg);
    e.events.push({ type: 'replaced', order: orderView(o), keptPriority: false });
    if (held) {
      // it starts working when its entry is done, or (releasable) when its market can trade
    } else if (!waitingStop) execute(e, o);
    else if (triggersNow) activate(e, o);
    else if (!isTrailing || o.hwm > 0) addStop(o);
  }
  runTriggered(e);
  return null;
}

/** Whether the order's account has `extra` more cash (buy) or free shares of the symbol (sell). */
function available(o: Order, isBuy: boolean, extra: number): boolean {
  const a = o.account;
  if (isBuy) return extra <= a.cash - a.reserved;
  const p = a.positions.get(o.book.symbol);
  return p !== undefined && extra <= p.qty - p.reserved;
}
