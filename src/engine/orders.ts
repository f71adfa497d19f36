/**
 * Order lifecycle: registration while open, and the ways an order stops being open.
 */
import type { CancelReason } from '../domain/exchange.ts';
import { hold, setHolding } from './accounts.ts';
import { unrest } from './book.ts';
import { orderView } from './context.ts';
import { type Engine, isOpenOrder, isWaitingStop, type Order } from './model.ts';
import { addOrder, removeOrder } from './order-index.ts';
import { removeStop } from './stops.ts';
import { stopTrailing } from './trailing.ts';

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

/** Close an open order: out of its queue, holdings released, its pair broken, forgotten. */
function close(e: Engine, o: Order, status: 'canceled' | 'expired'): void {
  if (o.level !== null) {
    if (isWaitingStop(o)) removeStop(o);
    else unrest(e, o);
  }
  if (o.orderType === 'trailing_stop') stopTrailing(o);
  const s = o.sibling;
  if (s !== null) {
    o.sibling = null;
    s.sibling = null;
  }
  const parent = o.parent;
  if (parent !== null) {
    // A held leg cancelled on its own: its entry no longer releases it.
    o.parent = null;
    const rest = parent.children!.filter((c) => c !== o);
    parent.children = rest.length === 0 ? null : rest;
  }
  setHolding(e, o, 0);
  // The other leg held for both, or nothing: now it holds for itself (until it is cancelled too).
  if (s !== null) hold(e, s);
  unregister(e, o);
  o.status = status;
  o.updatedAt = e.ts;
}

/** Cancelling one leg of a one-cancels-other pair cancels the other; an entry settles its held legs. */
export function cancelOrder(e: Engine, o: Order, reason: CancelReason): void {
  const s = o.sibling;
  close(e, o, 'canceled');
  e.events.push({ type: 'canceled', order: orderView(o), reason });
  if (s !== null && isOpenOrder(s)) cancelOrder(e, s, 'oco');
  if (o.children !== null) settleChildren(e, o);
}

/** Expiry (a day order at the close) takes the other leg and held legs with it: they are day orders too. */
export function expireOrder(e: Engine, o: Order): void {
  const s = o.sibling;
  close(e, o, 'expired');
  e.events.push({ type: 'expired', order: orderView(o) });
  if (s !== null && isOpenOrder(s)) expireOrder(e, s);
  const children = o.children;
  if (children === null) return;
  o.children = null;
  for (const c of children) c.parent = null;
  for (const c of children) if (isOpenOrder(c)) expireOrder(e, c);
}

/**
 * An entry is done: filled, or cancelled (by the user, or its unfilled remainder). Its held exit legs
 * are released sized to what it filled, and started once the current taker is done (execution.ts
 * runTriggered; if the symbol cannot trade then, once it can); an entry that filled nothing cancels them.
 */
export function settleChildren(e: Engine, o: Order): void {
  const children = o.children!;
  o.children = null;
  if (o.filledQty === 0) {
    for (const c of children) {
      c.parent = null;
      c.sibling = null;
    }
    for (const c of children) cancelOrder(e, c, 'parent');
    return;
  }
  for (const c of children) {
    c.parent = null;
    c.qty = o.filledQty;
    c.updatedAt = e.ts;
  }
  for (const c of children) {
    hold(e, c);
    e.triggered.push(c);
  }
}
