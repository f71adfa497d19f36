/**
 * What happens to an order that meets the book: it matches, then its remainder rests or is
 * cancelled; and the stops its trades trigger are activated in turn (a cascade ends when a round
 * of activations triggers nothing more).
 */
import type { CancelReason } from '../domain/exchange.ts';
import { setHolding } from './accounts.ts';
import { oppositeSide, rest } from './book.ts';
import { orderView } from './context.ts';
import { worstLevel } from './ladder.ts';
import { fillableQty, match, withinLimit } from './matching.ts';
import { type Engine, leaves, type Order } from './model.ts';
import { cancelOrder } from './orders.ts';
import { requiredHolding, stopLimitAtTrigger } from './risk.ts';

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
  if (o.orderType === 'stop') o.limit = stopLimitAtTrigger(book, o.isBuy, o.limit);
  setHolding(e, o, requiredHolding(o));
  e.events.push({ type: 'triggered', order: orderView(o) });
  // Fill-or-kill is decided at trigger time: all of it now, or nothing (no trade, cancelled).
  if (o.tif === 'fok' && fillableQty(book, o.isBuy, o.limit, o.account, o.stp, leaves(o)) < leaves(o)) {
    cancelOrder(e, o, remainderReason(o));
    return;
  }
  execute(e, o);
}

/** Activate the stops this command's trades triggered, in trigger order, including the ones they trigger. */
export function runTriggered(e: Engine): void {
  const queue = e.triggered;
  if (queue.length === 0) return;
  for (let i = 0; i < queue.length; i++) activate(e, queue[i]!);
  queue.length = 0;
}
