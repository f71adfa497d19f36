/**
 * Per-command bookkeeping: which levels, accounts and positions a command touched, and the
 * aggregated events emitted for them once the command is done.
 *
 * Touching stamps the object with the command's number (no Set per command) and remembers its
 * values before the first change, so a command emits one book_changed per level and one balance /
 * position event per account / position, carrying the final totals, and only when they changed.
 */
import type { Command, OrderView, RejectedEvent, RejectReason } from '../domain/exchange.ts';
import { compactLadder } from './ladder.ts';
import type { Account, Engine, Level, Order, Position } from './model.ts';

export function beginCommand(e: Engine, ts: number): void {
  e.stamp++;
  e.ts = ts;
  e.events = [];
  e.cause = null;
  e.touchedLevelCount = 0;
  e.touchedAccountCount = 0;
  e.touchedPositionCount = 0;
}

export function touchLevel(e: Engine, level: Level): void {
  if (level.touched === e.stamp) return;
  level.touched = e.stamp;
  e.touchedLevels[e.touchedLevelCount++] = level;
}

/** Call before changing an account's cash or reserved amount. */
export function touchAccount(e: Engine, a: Account): void {
  if (a.touched === e.stamp) return;
  a.touched = e.stamp;
  a.cashBefore = a.cash;
  a.reservedBefore = a.reserved;
  a.traded = false;
  e.touchedAccounts[e.touchedAccountCount++] = a;
}

/** Call before changing a position. */
export function touchPosition(e: Engine, p: Position): void {
  if (p.touched === e.stamp) return;
  p.touched = e.stamp;
  p.qtyBefore = p.qty;
  p.reservedBefore = p.reserved;
  p.costBefore = p.cost;
  e.touchedPositions[e.touchedPositionCount++] = p;
}

/**
 * The command's only event when it is rejected. Handlers validate everything before they change
 * anything, so a rejection leaves the state exactly as it was.
 */
export function rejection(command: Command, reason: RejectReason): RejectedEvent {
  const event: RejectedEvent = { type: 'rejected', command: command.type, reason };
  // Name the order and account when the command does (set only when present: events stay canonical).
  if ('id' in command && command.id !== undefined) event.id = command.id;
  if ('account' in command && command.account !== undefined) event.account = command.account;
  return event;
}

/** Emit the aggregated events of the command and drop what it emptied. */
export function finishCommand(e: Engine): void {
  const events = e.events;
  const levels = e.touchedLevels;
  for (let i = 0; i < e.touchedLevelCount; i++) {
    const level = levels[i]!;
    const ladder = level.ladder;
    events.push({
      type: 'book_changed',
      symbol: ladder.symbol,
      side: ladder.side,
      price: level.price,
      qty: level.qty,
      orders: level.count,
    });
    compactLadder(ladder);
  }
  const accounts = e.touchedAccounts;
  for (let i = 0; i < e.touchedAccountCount; i++) {
    const a = accounts[i]!;
    if (a.cash === a.cashBefore && a.reserved === a.reservedBefore) continue;
    events.push({
      type: 'balance',
      account: a.id,
      cash: a.cash,
      reserved: a.reserved,
      cause: e.cause ?? (a.traded ? 'trade' : 'reserve'),
      delta: a.cash - a.cashBefore,
    });
  }
  const positions = e.touchedPositions;
  for (let i = 0; i < e.touchedPositionCount; i++) {
    const p = positions[i]!;
    if (p.qty === p.qtyBefore && p.reserved === p.reservedBefore && p.cost === p.costBefore) continue;
    events.push({
      type: 'position',
      account: p.account.id,
      symbol: p.symbol,
      qty: p.qty,
      reserved: p.reserved,
      cost: p.cost,
    });
    // A flat, unencumbered position is dropped so that memory follows what accounts hold.
    if (p.qty === 0 && p.reserved === 0 && p.cost === 0 && p.account.positions.get(p.symbol) === p) {
      p.account.positions.delete(p.symbol);
    }
  }
}

export function orderView(o: Order): OrderView {
  const view: OrderView = {
    id: o.id,
    account: o.accountId,
    symbol: o.book.symbol,
    side: o.side,
    orderType: o.orderType,
    tif: o.tif,
    qty: o.qty,
    filledQty: o.filledQty,
    price: o.price,
    stopPrice: o.stopPrice,
    postOnly: o.postOnly,
    status: o.status,
    triggered: o.triggered,
    filledNotional: o.filledNotional,
    fees: o.fees,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
  };
  // Only when they apply: a plain order's view is what it always was.
  if (o.orderClass !== 'simple') view.orderClass = o.orderClass;
  if (o.parentId !== 0) view.parentId = o.parentId;
  if (o.orderType === 'trailing_stop') {
    view.trailPrice = o.trailPrice;
    view.trailBps = o.trailBps;
    view.hwm = o.hwm;
    view.activationPrice = o.activationPrice;
  }
  return view;
}
