/**
 * Read-only views of the engine state, and the canonical export used to compare engines.
 * These allocate freely: they are queries, not the command path.
 */
import type {
  ExchangeConfig,
  OrderStatus,
  OrderType,
  OrderView,
  SelfTradePrevention,
  TimeInForce,
} from '../domain/exchange.ts';
import { copySpec } from './admin.ts';
import type { AccountView, Depth, DepthLevel, ExchangeState, InstrumentState, PositionView } from './api.ts';
import { orderView } from './context.ts';
import { bestLevel, enqueue } from './ladder.ts';
import {
  type Account,
  type Book,
  createAccount,
  createBook,
  createOrder,
  createPosition,
  type Engine,
  type Ladder,
  type Level,
  type Order,
  type Position,
} from './model.ts';
import { ordersById } from './order-index.ts';
import { register } from './orders.ts';
import { requiredHoldingFromScratch } from './risk.ts';
import {
  type EngineSnapshot,
  type LadderIndex,
  READABLE_FORMATS,
  SNAPSHOT_FORMAT,
  type SnapshotOrder,
  type SnapshotOrderExtras,
} from './snapshot-format.ts';

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

/** Open orders of a book in no queue (held legs, trailing stops awaiting activation), by id. */
function unqueued(e: Engine, book: Book): Order[] {
  return ordersById(e.orders).filter((o) => o.book === book && o.level === null);
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
    for (const o of unqueued(e, book)) openOrders.push(orderView(o));
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
    // The two legs of a pair hold once, the larger need: counted at the lower id.
    const s = o.sibling;
    if (s !== null && s.id < o.id) continue;
    const need =
      s === null
        ? requiredHoldingFromScratch(o)
        : Math.max(requiredHoldingFromScratch(o), requiredHoldingFromScratch(s));
    if (o.isBuy) cash += need;
    else shares.set(o.book.symbol, (shares.get(o.book.symbol) ?? 0) + need);
  }
  return { cash, shares };
}

export { type EngineSnapshot, SNAPSHOT_FORMAT, type SnapshotOrder } from './snapshot-format.ts';

// ---------------------------------------------------------------------------------------------
// Snapshots: the engine's whole state as plain data, and an engine rebuilt from it.
//
// Unlike exportState (a canonical view for comparisons), a snapshot keeps what the views leave
// out and later commands depend on: the highest order id taken, each open order's own
// self-trade-prevention mode, the limit it may trade to and what it holds, and every queue in
// priority order. An engine restored from capture(e) and then given commands emits the same
// events and reaches the same state as e given the same commands (snapshot.test.ts).
// Levels a book side keeps empty for reuse are not captured: they hold no orders, emit nothing and
// only save an allocation.

function ladderOf(book: Book, index: LadderIndex): Ladder {
  return index === 0 ? book.bids : index === 1 ? book.asks : index === 2 ? book.buyStops : book.sellStops;
}

function levelOrders(level: Level): Order[] {
  const out: Order[] = [];
  for (let o = level.head; o !== null; o = o.next) out.push(o);
  return out;
}

function extrasOf(o: Order, unqueued: boolean): SnapshotOrderExtras | null {
  if (o.orderClass === 'simple' && o.orderType !== 'trailing_stop') return null;
  const x: SnapshotOrderExtras = {};
  if (unqueued) x.side = o.side;
  if (o.orderClass !== 'simple') x.cls = o.orderClass;
  if (o.parentId !== 0) x.parentId = o.parentId;
  if (o.parent !== null) x.heldBy = o.parent.id;
  if (o.sibling !== null) x.sibling = o.sibling.id;
  if (o.trailPrice !== 0) x.trailPrice = o.trailPrice;
  if (o.trailBps !== 0) x.trailBps = o.trailBps;
  if (o.hwm !== 0) x.hwm = o.hwm;
  if (o.activationPrice !== 0) x.activationPrice = o.activationPrice;
  return x;
}

/** A consistent copy of the engine's state: plain data that shares nothing with the engine. */
export function captureSnapshot(e: Engine): EngineSnapshot {
  const books: EngineSnapshot['books'] = [];
  const orders: SnapshotOrder[] = [];
  let bookIndex = 0;
  for (const book of e.books.values()) {
    const entry: EngineSnapshot['books'][number] = {
      spec: copySpec(book.spec),
      halted: book.halted,
      lastTradePrice: book.lastTradePrice,
      referencePrice: book.referencePrice,
    };
    if (book.trailing.size > 0) entry.trailing = [...book.trailing].map((o) => o.id);
    books.push(entry);
    for (let l = 0 as LadderIndex; l < 5; l = (l + 1) as LadderIndex) {
      const queued =
        l === 4 ? unqueued(e, book) : liveLevels(ladderOf(book, l)).flatMap((level) => levelOrders(level));
      for (const o of queued) {
        {
          const row: SnapshotOrder = [
            bookIndex,
            l,
            o.id,
            o.accountId,
            o.orderType,
            o.tif,
            o.postOnly ? 1 : 0,
            o.stp,
            o.createdAt,
            o.qty,
            o.filledQty,
            o.price,
            o.stopPrice,
            o.status,
            o.triggered ? 1 : 0,
            o.filledNotional,
            o.fees,
            o.updatedAt,
            o.limit,
            o.reserved,
          ];
          const extras = extrasOf(o, l === 4);
          if (extras !== null) row.push(extras);
          orders.push(row);
        }
      }
    }
    bookIndex++;
  }
  const accounts: EngineSnapshot['accounts'] = [];
  for (const a of e.accounts.values()) {
    const positions: [string, number, number, number][] = [];
    for (const p of a.positions.values()) positions.push([p.symbol, p.qty, p.reserved, p.cost]);
    accounts.push([a.id, a.cash, a.reserved, positions]);
  }
  return {
    format: SNAPSHOT_FORMAT,
    config: {
      fees: { makerBps: e.config.fees.makerBps, takerBps: e.config.fees.takerBps },
      selfTradePrevention: e.config.selfTradePrevention,
      feeAccount: e.config.feeAccount,
    },
    session: e.session,
    marketHalted: e.marketHalted,
    nextTradeId: e.nextTradeId,
    lastOrderId: e.lastOrderId,
    books,
    accounts,
    orders,
  };
}

export class SnapshotError extends Error {
  override name = 'SnapshotError';
}

function sameConfig(a: ExchangeConfig, b: ExchangeConfig): boolean {
  return (
    a.fees.makerBps === b.fees.makerBps &&
    a.fees.takerBps === b.fees.takerBps &&
    a.selfTradePrevention === b.selfTradePrevention &&
    a.feeAccount === b.feeAccount
  );
}

/**
 * Rebuilds the engine a snapshot was captured from, under `e`'s (empty) configuration. Refuses a
 * snapshot of another format or taken under other exchange rules: replaying later commands on it
 * would not reproduce what they did.
 */
export function restoreSnapshot(e: Engine, s: EngineSnapshot): void {
  if (!READABLE_FORMATS.includes(s.format))
    throw new SnapshotError(`snapshot format ${s.format} is not one of ${READABLE_FORMATS.join(', ')}`);
  if (!sameConfig(e.config, s.config)) {
    throw new SnapshotError(
      'the snapshot was taken under other exchange rules (fees, self-trade prevention or fee account)',
    );
  }
  if (e.books.size !== 0 || e.orders.size !== 0 || e.accounts.size !== 1) {
    throw new SnapshotError('a snapshot restores into a new engine only');
  }
  e.session = s.session;
  e.marketHalted = s.marketHalted;
  e.nextTradeId = s.nextTradeId;
  e.lastOrderId = s.lastOrderId;
  const books: Book[] = [];
  for (const b of s.books) {
    const book = createBook(copySpec(b.spec), e.config.fees);
    book.halted = b.halted;
    book.lastTradePrice = b.lastTradePrice;
    book.referencePrice = b.referencePrice;
    e.books.set(book.symbol, book);
    books.push(book);
  }
  for (const [id, cash, reserved, positions] of s.accounts) {
    let a = e.accounts.get(id);
    if (a === undefined) {
      a = createAccount(id);
      e.accounts.set(id, a);
    }
    a.cash = cash;
    a.reserved = reserved;
    for (const [symbol, qty, held, cost] of positions) {
      const p = createPosition(a, symbol);
      p.qty = qty;
      p.reserved = held;
      p.cost = cost;
      a.positions.set(symbol, p);
    }
  }
  const restored: Order[] = [];
  const byId = new Map<number, Order>();
  for (const row of s.orders) {
    const book = books[row[0] as number];
    const account = e.accounts.get(row[3] as string);
    if (book === undefined || account === undefined)
      throw new SnapshotError(`snapshot order ${row[2]} is dangling`);
    const ladder = row[1] as LadderIndex;
    const x = (row[20] ?? {}) as SnapshotOrderExtras;
    const orderType = row[4] as OrderType;
    const isBuy = ladder === 4 ? x.side === 'buy' : ladder === 0 || ladder === 2;
    const o = createOrder({
      id: row[2] as number,
      account,
      book,
      side: isBuy ? 'buy' : 'sell',
      orderType,
      tif: row[5] as TimeInForce,
      postOnly: row[6] === 1,
      stp: row[7] as SelfTradePrevention,
      createdAt: row[8] as number,
      qty: row[9] as number,
      price: row[11] as number,
      stopPrice: row[12] as number,
      limit: row[18] as number,
      position: isBuy ? null : (account.positions.get(book.symbol) ?? null),
      orderClass: x.cls ?? 'simple',
      parentId: x.parentId ?? 0,
      trailPrice: x.trailPrice ?? 0,
      trailBps: x.trailBps ?? 0,
      activationPrice: x.activationPrice ?? 0,
    });
    o.filledQty = row[10] as number;
    o.status = row[13] as OrderStatus;
    o.triggered = row[14] === 1;
    o.filledNotional = row[15] as number;
    o.fees = row[16] as number;
    o.updatedAt = row[17] as number;
    o.reserved = row[19] as number;
    o.hwm = x.hwm ?? 0;
    // A sell that holds nothing yet (a held leg) finds its position when it starts holding.
    if (!isBuy && o.position === null && o.reserved > 0)
      throw new SnapshotError(`snapshot sell order ${o.id} has no position`);
    if (ladder < 4) enqueue(ladderOf(book, ladder), ladder < 2 ? o.price : o.stopPrice, o);
    restored.push(o);
    byId.set(o.id, o);
  }
  for (const row of s.orders) {
    const x = row[20] as SnapshotOrderExtras | undefined;
    if (x === undefined) continue;
    const o = byId.get(row[2] as number)!;
    if (x.sibling !== undefined) o.sibling = linked(byId, x.sibling, o.id);
    if (x.heldBy !== undefined) {
      const parent = linked(byId, x.heldBy, o.id);
      o.parent = parent;
      if (parent.children === null) parent.children = [];
      parent.children.push(o);
    }
  }
  for (let b = 0; b < s.books.length; b++) {
    for (const id of s.books[b]!.trailing ?? []) books[b]!.trailing.add(linked(byId, id, id));
  }
  // Each account lists its open orders in acceptance order, i.e. by id; an entry's legs by id too.
  restored.sort((x, y) => x.id - y.id);
  for (const o of restored) {
    register(e, o);
    o.children?.sort((x, y) => x.id - y.id);
  }
}

function linked(byId: Map<number, Order>, id: number, from: number): Order {
  const o = byId.get(id);
  if (o === undefined) throw new SnapshotError(`snapshot order ${from} links to ${id}, which is not open`);
  return o;
}
