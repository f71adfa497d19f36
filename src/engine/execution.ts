/**
 * What happens to an order that meets the book: it matches, then its remainder rests or is
 * cancelled; and the stops its trades trigger are activated in turn (a cascade ends when a round
 * of activations triggers nothing more).
 */
import type { CancelReason } from '../domain/exchange.ts';
import { hold } from './accounts.ts';
import { oppositeSide, rest } from './book.ts';
import { orderView } from './context.ts';
import { worstLevel } from './ladder.ts';
import { fillableQty, match, withinLimit } from './matching.ts';
import { type Book, type Engine, isMarketStop, isOpenOrder, leaves, type Order } from './model.ts';
import { ordersById } from './order-index.ts';
import { cancelOrder } from './orders.ts';
import { stopHolds, stopLimitAtTrigger } from './risk.ts';
import { addStop, removeStop } from './stops.ts';
import { startTrailing, stopTrailing } from './trailing.ts';

/** Match a taker, then rest or cancel what is left. */
export function execute(e: Engine, o: Order): void {
  const stoppedBySelfTrade = match(e, o);
  if (o.filledQty === o.qty) return; // filled: already closed by the last fill
  if (stoppedBySelfTrade) cancelOrder(e, o, 'self_trade');
  else if (o.mayRest) rest(e, o);
  else cancelOrder(e, o, remainderReason(o));
}

/**
 * Why an unfilled remainder is cancelled. Market orders and triggered stops never rest (they act as
 * IOC): `collar` when the book still had liquidity, but beyond the price collar; `no_liquidity`
 * when it had none. Limit orders that may not rest (IOC, FOK): `ioc_remainder`.
 */
function remainderReason(o: Order): CancelReason {
  if (o.orderType === 'limit' || o.orderType === 'stop_limit') return 'ioc_remainder';
  const far = worstLevel(oppositeSide(o));
  return far !== null && !withinLimit(o.isBuy, o.limit, far.price) ? 'collar' : 'no_liquidity';
}

/**
 * A stop's condition holds: it becomes a market order (stop) or a limit order (stop_limit) and
 * meets the book now. A triggered stop's collar is taken from the current reference price; a buy
 * stop keeps the lower of that and the collar of its stop price, which its reservation covers.
 */
export function activate(e: Engine, o: Order): void {
  const book = o.book;
  o.triggered = true;
  o.updatedAt = e.ts;
  if (o.orderType === 'trailing_stop') stopTrailing(o);
  if (isMarketStop(o)) o.limit = stopLimitAtTrigger(book, o.isBuy, o.limit);
  hold(e, o);
  e.events.push({ type: 'triggered', order: orderView(o) });
  // Fill-or-kill is decided at trigger time: all of it now, or nothing (no trade, cancelled).
  if (o.tif === 'fok' && fillableQty(book, o.isBuy, o.limit, o.account, o.stp, leaves(o)) < leaves(o)) {
    cancelOrder(e, o, remainderReason(o));
    return;
  }
  execute(e, o);
}

/**
 * Activate the stops this command's trades triggered and start the exit legs its entries released,
 * in order, including what they trigger and release in turn. An order closed while it waited in the
 * queue (the other leg of its pair filled) is skipped. A leg released while its symbol cannot trade
 * (an entry cancelled during a halt, in pre-open or while closed) stays `held`, releasable: it has
 * no entry any more, is sized and holds as a working order would, and starts when trading resumes
 * (startReleasable).
 */
export function runTriggered(e: Engine): void {
  const queue = e.triggered;
  if (queue.length === 0) return;
  for (let i = 0; i < queue.length; i++) {
    const o = queue[i]!;
    if (!isOpenOrder(o)) continue;
    if (o.status !== 'held') activate(e, o);
    else if (canTrade(e, o.book)) startLeg(e, o);
  }
  queue.length = 0;
}

/** Whether orders of this book may meet it now: the session is open and neither it nor the market is halted. */
export function canTrade(e: Engine, book: Book): boolean {
  return e.session === 'open' && !e.marketHalted && !book.halted;
}

/** A releasable leg: held, but its entry is done (its market could not trade when the entry finished). */
export function isReleasable(o: Order): boolean {
  return o.status === 'held' && o.parent === null;
}

/**
 * Trading resumed (a halt lifted, the session back to open): the releasable legs whose symbol can
 * trade now start working, by id, with what they trigger and release in turn.
 */
export function startReleasable(e: Engine): void {
  for (const o of ordersById(e.orders)) {
    if (isReleasable(o) && canTrade(e, o.book)) e.triggered.push(o);
  }
  runTriggered(e);
}

/**
 * A new working order: a stop joins its queue (or triggers at once), a trailing stop starts
 * tracking (or waits for its activation price), anything else meets the book.
 */
export function startWorking(e: Engine, o: Order): void {
  if (o.orderType === 'trailing_stop') {
    if (!o.book.trailing.has(o)) startTrailing(o);
    hold(e, o);
    if (o.level !== null && stopHolds(o.isBuy, o.stopPrice, o.book.referencePrice)) {
      removeStop(o);
      activate(e, o);
    }
  } else if (!o.isStopType) execute(e, o);
  else if (stopHolds(o.isBuy, o.stopPrice, o.book.referencePrice)) activate(e, o);
  else addStop(o);
}

/** A released exit leg starts working, as if it had just been accepted (a trailing one from the price now). */
function startLeg(e: Engine, o: Order): void {
  o.status = 'new';
  o.updatedAt = e.ts;
  if (o.orderType === 'trailing_stop') startTrailing(o);
  e.events.push({ type: 'released', order: orderView(o) });
  startWorking(e, o);
}
