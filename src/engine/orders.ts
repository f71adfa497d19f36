/**
 * Order lifecycle: registration while open, and the ways an order stops being open.
 */
import type { CancelReason } from '../domain/exchange.ts';
import { setHolding } from './accounts.ts';
import { unrest } from './book.ts';
import { orderView } from './context.ts';
import { type Engine, isWaitingStop, type Order } from './model.ts';
import { addOrder, removeOrder } from './order-index.ts';
import { removeStop } from './stops.ts';

/** Make an accepted order findable by id and by account. */
export function register(e: Engine, o: Order): void {
  addOrder(e.orders, o);
  const a = o.account;
  o.accountPrev = a.lastOrder;
  o.accountNext = null;
  if (a.lastOrder === null) a.firstOrder = o;
  else a.lastOrder.accountNext = o;
  a.lastOrder = o;
}

/** Forget an order that is no longer open (it holds nothing and sits in no queue by now). */
export function unregister(e: Engine, o: Order): void {
  removeOrder(e.orders, o);
  const a = o.account;
  const prev = o.accountPrev;
  const next = o.accountNext;
  if (prev === null) a.firstOrder = next;
  else prev.accountNext = next;
  if (next === null) a.lastOrder = prev;
  else next.accountPrev = prev;
  o.accountPrev = null;
  o.accountNext = null;
}

/** Close an open order: out of its queue, holdings released, forgotten. */
function close(e: Engine, o: Order, status: 'canceled' | 'expired'): void {
  if (o.level !== null) {
    if (isWaitingStop(o)) removeStop(o);
    else unrest(e, o);
  }
  setHolding(e, o, 0);
  unregister(e, o);
  o.status = status;
  o.updatedAt = e.ts;
}

export function cancelOrder(e: Engine, o: Order, reason: CancelReason): void {
  close(e, o, 'canceled');
  e.events.push({ type: 'canceled', order: orderView(o), reason });
}

export function expireOrder(e: Engine, o: Order): void {
  close(e, o, 'expired');
  e.events.push({ type: 'expired', order: orderView(o) });
}
