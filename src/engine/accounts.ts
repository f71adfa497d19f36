/**
 * Cash, positions and reservations. Every change goes through these functions so that the
 * per-command balance / position events see it (they touch before they change).
 */
import { mulDivFloor } from './arith.ts';
import { touchAccount, touchPosition } from './context.ts';
import { type Account, createPosition, type Engine, type Order, type Position } from './model.ts';

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
  const delta = amount - o.reserved;
  if (delta === 0) return;
  o.reserved = amount;
  if (o.isBuy) {
    const a = o.account;
    touchAccount(e, a);
    a.reserved += delta;
  } else {
    const p = o.position!;
    touchPosition(e, p);
    p.reserved += delta;
  }
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
