/**
 * Cash, positions and reservations. Every change goes through these functions so that the
 * per-command balance / position events see it (they touch before they change).
 */
import { mulDivFloor } from './arith.ts';
import { touchAccount, touchPosition } from './context.ts';
import { type Account, createPosition, type Engine, type Order, type Position } from './model.ts';
import { requiredHolding } from './risk.ts';

export function openPosition(e: Engine, a: Account, symbol: string): Position {
  let p = a.positions.get(symbol);
  if (p === undefined) {
    p = createPosition(a, symbol);
    a.positions.set(symbol, p);
  }
  touchPosition(e, p);
  return p;
}

export function availableCash(a: Account): number {
  return a.cash - a.reserved;
}

export function freeShares(a: Account, symbol: string): number {
  const p = a.positions.get(symbol);
  return p === undefined ? 0 : p.qty - p.reserved;
}

/** Set what an order holds (cents for a buy, shares for a sell), moving the difference in or out of its account. */
export function setHolding(e: Engine, o: Order, amount: number): void {
  const before = o.reserved;
  const delta = amount - before;
  if (delta === 0) return;
  o.reserved = amount;
  if (o.isBuy) {
    const a = o.account;
    touchAccount(e, a);
    a.reserved += delta;
  } else {
    // Starting to hold: the position may have been dropped while the order held nothing (an exit
    // leg waiting for its entry to buy the shares), so look it up (or open it) again.
    const p = before === 0 ? openPosition(e, o.account, o.book.symbol) : o.position!;
    o.position = p;
    touchPosition(e, p);
    p.reserved += delta;
  }
}

/**
 * Set what an order holds from its own state. The two legs of a one-cancels-other pair close out the
 * same position, so they hold once between them: the larger need, on the lower id, the other nothing.
 */
export function hold(e: Engine, o: Order): void {
  const s = o.sibling;
  if (s === null) {
    setHolding(e, o, requiredHolding(o));
    return;
  }
  const need = Math.max(requiredHolding(o), requiredHolding(s));
  const first = o.id < s.id ? o : s;
  setHolding(e, first === o ? s : o, 0);
  setHolding(e, first, need);
}

/** Signed cash movement caused by a trade (fees included). */
export function tradeCash(e: Engine, a: Account, delta: number): void {
  touchAccount(e, a);
  a.cash += delta;
  a.traded = true;
}

export function addShares(e: Engine, a: Account, symbol: string, qty: number, cost: number): void {
  const p = openPosition(e, a, symbol);
  p.qty += qty;
  p.cost += cost;
}

/**
 * Remove shares from a position. The cost basis shrinks in proportion, rounded down, and is
 * zero once the position is flat, so average cost is preserved and nothing is left behind.
 */
export function removeShares(e: Engine, p: Position, qty: number): void {
  touchPosition(e, p);
  p.cost = qty === p.qty ? 0 : p.cost - mulDivFloor(p.cost, qty, p.qty);
  p.qty -= qty;
}
