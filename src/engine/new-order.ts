/**
 * new_order: validate everything, then accept and execute.
 *
 * Checks, in this order (the first failure is the reason): id, symbol, account, well-formed
 * fields, quantity rules, prices and ticks, session and halts, pre-open restrictions, price band,
 * order size bound, crossing in pre-open / post-only, risk, fill-or-kill. Nothing is changed before
 * the last check passes.
 */
import type { NewOrderCommand, RejectReason } from '../domain/exchange.ts';
import { hold } from './accounts.ts';
import { buyReservation, isPositiveInt, MAX_NOTIONAL, MAX_QTY, outsideBand } from './arith.ts';
import { planLegs } from './classes.ts';
import { orderView } from './context.ts';
import { runTriggered, startWorking } from './execution.ts';
import { fillableQty, wouldTake } from './matching.ts';
import { createOrder, type Engine, isMarketStop, isOpenOrder, type Order } from './model.ts';
import { register } from './orders.ts';
import { buyCollar, sellCollar, stopHolds, stopLimitAtTrigger, trailingLimit, trailStop } from './risk.ts';
import { activationHolds } from './trailing.ts';
import {
  isOrderType,
  isSelfTradePrevention,
  isSide,
  isTimeInForce,
  priceProblem,
  sizeProblem,
  tradingProblem,
  trailProblem,
} from './validation.ts';

export function newOrder(e: Engine, c: NewOrderCommand): RejectReason | null {
  // Ids come from the sequencer's counter: requiring them to increase keeps them unique forever
  // without remembering every id ever used.
  if (!Number.isSafeInteger(c.id) || c.id <= e.lastOrderId) return 'duplicate_order_id';
  const book = e.books.get(c.symbol);
  if (book === undefined) return 'unknown_symbol';
  const account = e.accounts.get(c.account);
  // The fee account only collects fees: it does not trade.
  if (account === undefined || account === e.feeAccount) return 'unknown_account';
  const { side, orderType, tif } = c;
  const stp = c.selfTradePrevention ?? e.config.selfTradePrevention;
  if (!isSide(side) || !isOrderType(orderType) || !isTimeInForce(tif) || !isSelfTradePrevention(stp)) {
    return 'invalid_quantity';
  }
  const spec = book.spec;
  const qty = c.qty;
  if (!isPositiveInt(qty) || qty > MAX_QTY) return 'invalid_quantity';
  const sizeReason = sizeProblem(qty, spec);
  if (sizeReason !== null) return sizeReason;

  const hasLimit = orderType === 'limit' || orderType === 'stop_limit';
  const hasStopPrice = orderType === 'stop' || orderType === 'stop_limit';
  const isTrailing = orderType === 'trailing_stop';
  const isStop = hasStopPrice || isTrailing;
  const price = hasLimit ? (c.price as number) : 0;
  let stopPrice = hasStopPrice ? (c.stopPrice as number) : 0;
  if (hasLimit) {
    const reason = priceProblem(price, spec);
    if (reason !== null) return reason;
  }
  if (hasStopPrice) {
    const reason = priceProblem(stopPrice, spec);
    if (reason !== null) return reason;
  }
  let trailPrice = 0;
  let trailBps = 0;
  let activationPrice = 0;
  if (isTrailing) {
    const reason = trailProblem(c.trailPrice, c.trailBps, spec);
    if (reason !== null) return reason;
    trailPrice = c.trailPrice ?? 0;
    trailBps = c.trailBps ?? 0;
    if (c.activationPrice !== undefined) {
      if (priceProblem(c.activationPrice, spec) !== null) return 'invalid_trail';
      activationPrice = c.activationPrice;
    }
  } else if (c.trailPrice !== undefined || c.trailBps !== undefined || c.activationPrice !== undefined) {
    return 'invalid_trail';
  }
  const legs = planLegs(c, book);
  if (typeof legs === 'string') return legs;
  const orderClass = c.orderClass ?? 'simple';

  const marketReason = tradingProblem(e, book);
  if (marketReason !== null) return marketReason;
  // Pre-open builds the book only: plain day/gtc limits that do not cross (an oco's stop would work).
  if (
    e.session === 'pre_open' &&
    (orderType !== 'limit' || tif === 'ioc' || tif === 'fok' || orderClass === 'oco')
  ) {
    return 'not_allowed_pre_open';
  }
  const ref = book.referencePrice;
  if (hasLimit && outsideBand(price, ref, spec.priceBandBps)) return 'outside_price_band';
  for (const l of legs) {
    if (l.price !== 0 && outsideBand(l.price, ref, spec.priceBandBps)) return 'outside_price_band';
    // A working trailing buy leg (oco) reserves at the collar of the stop it starts with.
    if (l.orderType === 'trailing_stop' && l.side === 'buy') {
      l.limit = buyCollar(book, trailStop(book, true, l.trailPrice, l.trailBps, ref));
    }
  }

  const isBuy = side === 'buy';
  // A trailing stop tracks from the reference price now, unless it waits for its activation price.
  const hwm = isTrailing && activationHolds(isBuy, activationPrice, ref) ? ref : 0;
  if (hwm > 0) stopPrice = trailStop(book, isBuy, trailPrice, trailBps, hwm);
  // The price this order may trade to and a buy reserves at (see risk.ts).
  const limit = hasLimit
    ? price
    : orderType === 'market'
      ? isBuy
        ? buyCollar(book, ref)
        : sellCollar(book, ref)
      : isTrailing
        ? trailingLimit(book, isBuy, { trailPrice, trailBps, hwm, activationPrice, stopPrice })
        : isBuy
          ? buyCollar(book, stopPrice)
          : 0;
  if (qty * (isBuy ? limit : price) > MAX_NOTIONAL) return 'invalid_quantity';
  for (const l of legs)
    if (qty * (l.side === 'buy' ? l.limit : l.price) > MAX_NOTIONAL) return 'invalid_quantity';
  if (legs.length > 0 && !Number.isSafeInteger(c.id + legs.length)) return 'duplicate_order_id';

  const triggersNow = isStop && (!isTrailing || hwm > 0) && stopHolds(isBuy, stopPrice, ref);
  const meetsBookNow = !isStop || triggersNow;
  // The limit it will meet the book with: a stop that triggers at once gets its trigger-time collar.
  const takeLimit =
    isMarketStop({ orderType }) && triggersNow ? stopLimitAtTrigger(book, isBuy, limit) : limit;
  if (
    meetsBookNow &&
    (e.session === 'pre_open' || c.postOnly === true) &&
    wouldTake(book, isBuy, takeLimit)
  ) {
    return e.session === 'pre_open' ? 'not_allowed_pre_open' : 'post_only_would_take';
  }

  const holding = isBuy ? buyReservation(qty, limit, book.reserveBps) : qty;
  // What the legs add: an oco's two legs hold once (the larger need); a bracket's or oto's held
  // exits hold nothing yet when they sell, and the cash for the whole entry when they buy.
  let cashNeed = isBuy ? holding : 0;
  const sharesNeed = isBuy ? 0 : qty;
  for (const l of legs) {
    if (l.side === 'buy') cashNeed = Math.max(cashNeed, buyReservation(qty, l.limit, book.reserveBps));
  }
  if (cashNeed > account.cash - account.reserved) return 'insufficient_funds';
  if (sharesNeed > 0) {
    const p = account.positions.get(book.symbol);
    if (p === undefined || p.qty - p.reserved < sharesNeed) return 'insufficient_shares';
  }
  if (meetsBookNow && tif === 'fok' && fillableQty(book, isBuy, takeLimit, account, stp, qty) < qty) {
    return 'fok_not_fillable';
  }

  // Accepted: from here on the command changes state.
  e.lastOrderId = c.id + legs.length;
  const o = createOrder({
    id: c.id,
    account,
    book,
    side,
    orderType,
    tif,
    postOnly: c.postOnly === true,
    stp,
    createdAt: e.ts,
    qty,
    price,
    stopPrice,
    limit,
    position: isBuy ? null : account.positions.get(book.symbol)!,
    orderClass,
    parentId: 0,
    trailPrice,
    trailBps,
    activationPrice,
  });
  o.hwm = hwm;
  register(e, o);
  const legOrders: Order[] = [];
  for (let k = 0; k < legs.length; k++) {
    const l = legs[k]!;
    const leg = createOrder({
      id: c.id + 1 + k,
      account,
      book,
      side: l.side,
      orderType: l.orderType,
      tif,
      postOnly: false,
      stp,
      createdAt: e.ts,
      qty,
      price: l.price,
      stopPrice: l.stopPrice,
      limit: l.limit,
      position: null,
      orderClass,
      parentId: c.id,
      trailPrice: l.trailPrice,
      trailBps: l.trailBps,
      activationPrice: 0,
    });
    register(e, leg);
    legOrders.push(leg);
  }
  linkLegs(o, legOrders);
  hold(e, o);
  for (const leg of legOrders) hold(e, leg);
  e.events.push({ type: 'accepted', order: orderView(o) });
  for (const leg of legOrders) e.events.push({ type: 'accepted', order: orderView(leg) });
  startWorking(e, o);
  // An oco's stop works at once, unless the limit's first fill has already cancelled it.
  if (orderClass === 'oco' && isOpenOrder(legOrders[0]!)) startWorking(e, legOrders[0]!);
  runTriggered(e);
  return null;
}

/** An oco's two orders are a pair; a bracket's or oto's legs are held by the entry (a bracket's two are a pair). */
function linkLegs(o: Order, legs: Order[]): void {
  if (legs.length === 0) return;
  if (o.orderClass === 'oco') {
    o.sibling = legs[0]!;
    legs[0]!.sibling = o;
    return;
  }
  o.children = legs;
  for (const leg of legs) {
    leg.parent = o;
    leg.status = 'held';
  }
  if (legs.length === 2) {
    legs[0]!.sibling = legs[1]!;
    legs[1]!.sibling = legs[0]!;
  }
}
