/**
 * new_order: validate everything, then accept and execute.
 *
 * Checks, in this order (the first failure is the reason): id, symbol, account, well-formed
 * fields, quantity rules, prices and ticks, session and halts, pre-open restrictions, price band,
 * order size bound, crossing in pre-open / post-only, risk, fill-or-kill. Nothing is changed before
 * the last check passes.
 */
import type { NewOrderCommand, RejectReason } from '../domain/exchange.ts';
import { setHolding } from './accounts.ts';
import { buyReservation, isPositiveInt, MAX_NOTIONAL, MAX_QTY, outsideBand } from './arith.ts';
import { orderView } from './context.ts';
import { activate, execute, runTriggered } from './execution.ts';
import { fillableQty, wouldTake } from './matching.ts';
import type { Engine, Order } from './model.ts';
import { register } from './orders.ts';
import { buyCollar, sellCollar, stopHolds, stopLimitAtTrigger } from './risk.ts';
import { addStop } from './stops.ts';
import {
  isOrderType,
  isSelfTradePrevention,
  isSide,
  isTimeInForce,
  priceProblem,
  sizeProblem,
  tradingProblem,
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
  const isStop = orderType === 'stop' || orderType === 'stop_limit';
  const price = hasLimit ? (c.price as number) : 0;
  const stopPrice = isStop ? (c.stopPrice as number) : 0;
  if (hasLimit) {
    const reason = priceProblem(price, spec);
    if (reason !== null) return reason;
  }
  if (isStop) {
    const reason = priceProblem(stopPrice, spec);
    if (reason !== null) return reason;
  }

  const marketReason = tradingProblem(e, book);
  if (marketReason !== null) return marketReason;
  // Pre-open builds the book only: plain day/gtc limits that do not cross.
  if (e.session === 'pre_open' && (orderType !== 'limit' || tif === 'ioc' || tif === 'fok')) {
    return 'not_allowed_pre_open';
  }
  const ref = book.referencePrice;
  if (hasLimit && outsideBand(price, ref, spec.priceBandBps)) return 'outside_price_band';

  const isBuy = side === 'buy';
  // The price this order may trade to and a buy reserves at (see risk.ts).
  const limit = hasLimit
    ? price
    : orderType === 'market'
      ? isBuy
        ? buyCollar(book, ref)
        : sellCollar(book, ref)
      : isBuy
        ? buyCollar(book, stopPrice)
        : 0;
  if (qty * (isBuy ? limit : price) > MAX_NOTIONAL) return 'invalid_quantity';

  const triggersNow = isStop && stopHolds(isBuy, stopPrice, ref);
  const meetsBookNow = !isStop || triggersNow;
  // The limit it will meet the book with: a stop that triggers at once gets its trigger-time collar.
  const takeLimit = orderType === 'stop' && triggersNow ? stopLimitAtTrigger(book, isBuy, limit) : limit;
  if (
    meetsBookNow &&
    (e.session === 'pre_open' || c.postOnly === true) &&
    wouldTake(book, isBuy, takeLimit)
  ) {
    return e.session === 'pre_open' ? 'not_allowed_pre_open' : 'post_only_would_take';
  }

  const holding = isBuy ? buyReservation(qty, limit, book.reserveBps) : qty;
  if (isBuy) {
    if (holding > account.cash - account.reserved) return 'insufficient_funds';
  } else {
    const p = account.positions.get(book.symbol);
    if (p === undefined || p.qty - p.reserved < qty) return 'insufficient_shares';
  }
  if (meetsBookNow && tif === 'fok' && fillableQty(book, isBuy, takeLimit, account, stp, qty) < qty) {
    return 'fok_not_fillable';
  }

  // Accepted: from here on the command changes state.
  e.lastOrderId = c.id;
  const o: Order = {
    id: c.id,
    accountId: account.id,
    account,
    book,
    side,
    isBuy,
    orderType,
    isStopType: isStop,
    tif,
    mayRest: hasLimit && (tif === 'day' || tif === 'gtc'),
    postOnly: c.postOnly === true,
    stp,
    createdAt: e.ts,
    qty,
    filledQty: 0,
    price,
    stopPrice,
    status: 'new',
    triggered: false,
    filledNotional: 0,
    fees: 0,
    updatedAt: e.ts,
    limit,
    reserved: 0,
    position: isBuy ? null : account.positions.get(book.symbol)!,
    level: null,
    prev: null,
    next: null,
    accountPrev: null,
    accountNext: null,
  };
  register(e, o);
  setHolding(e, o, holding);
  e.events.push({ type: 'accepted', order: orderView(o) });
  if (!isStop) execute(e, o);
  else if (triggersNow) activate(e, o);
  else addStop(o);
  runTriggered(e);
  return null;
}
