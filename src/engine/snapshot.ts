/**
 * Read-only views of the engine state, and the canonical export used to compare engines.
 * These allocate freely: they are queries, not the command path.
 */
import type { OrderView } from '../domain/exchange.ts';
import { copySpec } from './admin.ts';
import type { AccountView, Depth, DepthLevel, ExchangeState, InstrumentState, PositionView } from './api.ts';
import { orderView } from './context.ts';
import { bestLevel } from './ladder.ts';
import type { Account, Book, Engine, Ladder, Level, Position } from './model.ts';
import { ordersById } from './order-index.ts';
import { requiredHoldingFromScratch } from './risk.ts';

/** Code-unit order: the same everywhere, unlike localeCompare. */
function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function accountView(a: Account): AccountView {
  return { account: a.id, cash: a.cash, reserved: a.reserved };
}

export function positionView(p: Position): PositionView {
  return { account: p.account.id, symbol: p.symbol, qty: p.qty, reserved: p.reserved, cost: p.cost };
}

export function positionViews(a: Account): PositionView[] {
  return [...a.positions.values()].sort((x, y) => byString(x.symbol, y.symbol)).map(positionView);
}

export function instrumentState(book: Book): InstrumentState {
  return {
    spec: copySpec(book.spec),
    halted: book.halted,
    referencePrice: book.referencePrice,
    lastTradePrice: book.lastTradePrice,
  };
}

export function sortedBooks(e: Engine): Book[] {
  return [...e.books.values()].sort((x, y) => byString(x.symbol, y.symbol));
}

export function openOrderViews(e: Engine, account?: string): OrderView[] {
  const out: OrderView[] = [];
  if (account === undefined) {
    for (const o of ordersById(e.orders)) out.push(orderView(o));
    return out;
  }
  const a = e.accounts.get(account);
  for (let o = a === undefined ? null : a.firstOrder; o !== null; o = o.accountNext) out.push(orderView(o));
  return out;
}

export function bestPrice(ladder: Ladder): number | null {
  const level = bestLevel(ladder);
  return level === null ? null : level.price;
}

/** Live levels from the best (a book side may hold empty levels, see ladder.ts). */
function liveLevels(ladder: Ladder, limit = Number.POSITIVE_INFINITY): Level[] {
  const out: Level[] = [];
  const chunks = ladder.levels.chunks;
  for (let c = chunks.length - 1; c >= 0 && out.length < limit; c--) {
    const chunk = chunks[c]!;
    for (let j = chunk.length - 1; j >= 0 && out.length < limit; j--) {
      if (chunk[j]!.count > 0) out.push(chunk[j]!);
    }
  }
  return out;
}

function depthSide(ladder: Ladder, levels: number): DepthLevel[] {
  return liveLevels(ladder, levels).map((l) => ({ price: l.price, qty: l.qty, orders: l.count }));
}

export function depth(e: Engine, symbol: string, levels: number): Depth {
  const book = e.books.get(symbol);
  if (book === undefined) return { symbol, bids: [], asks: [] };
  return { symbol, bids: depthSide(book.bids, levels), asks: depthSide(book.asks, levels) };
}

/** Orders of a ladder in priority order: best level first, then first come first served. */
function ladderOrders(ladder: Ladder, out: OrderView[]): void {
  for (const level of liveLevels(ladder)) {
    for (let o = level.head; o !== null; o = o.next) out.push(orderView(o));
  }
}

export function exportState(e: Engine): ExchangeState {
  const books = sortedBooks(e);
  const accounts = [...e.accounts.values()].sort((x, y) => byString(x.id, y.id));
  const openOrders: OrderView[] = [];
  for (const book of books) {
    ladderOrders(book.bids, openOrders);
    ladderOrders(book.asks, openOrders);
    ladderOrders(book.buyStops, openOrders);
    ladderOrders(book.sellStops, openOrders);
  }
  return {
    session: e.session,
    marketHalted: e.marketHalted,
    nextTradeId: e.nextTradeId,
    instruments: books.map(instrumentState),
    accounts: accounts.map(accountView),
    positions: accounts.flatMap(positionViews),
    openOrders,
  };
}

/** What an account's open orders need, recomputed from the orders' own fields. */
export function requiredReservation(
  e: Engine,
  account: string,
): { cash: number; shares: Map<string, number> } {
  let cash = 0;
  const shares = new Map<string, number>();
  const a = e.accounts.get(account);
  for (let o = a === undefined ? null : a.firstOrder; o !== null; o = o.accountNext) {
    const need = requiredHoldingFromScratch(o);
    if (o.isBuy) cash += need;
    else shares.set(o.book.symbol, (shares.get(o.book.symbol) ?? 0) + need);
  }
  return { cash, shares };
}
