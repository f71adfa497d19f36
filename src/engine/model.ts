/**
 * The engine's mutable state. Plain records with a fixed shape (every field set at creation) so
 * that V8 keeps them monomorphic; linked by direct references so the hot path never looks a key up
 * twice.
 */
import type {
  EngineEvent,
  ExchangeConfig,
  InstrumentSpec,
  OrderClass,
  OrderStatus,
  OrderType,
  SelfTradePrevention,
  SessionState,
  Side,
  TimeInForce,
} from '../domain/exchange.ts';
import { createOrderIndex, type OrderIndex } from './order-index.ts';
import { createPriceLevels, type PriceLevels } from './price-levels.ts';

export interface Order {
  readonly id: number;
  readonly accountId: string;
  readonly account: Account;
  readonly book: Book;
  readonly side: Side;
  readonly isBuy: boolean;
  readonly orderType: OrderType;
  /** stop, stop_limit or trailing_stop */
  readonly isStopType: boolean;
  readonly tif: TimeInForce;
  /** a limit order (or stop-limit, once triggered) whose time in force lets it rest: day or gtc */
  readonly mayRest: boolean;
  readonly postOnly: boolean;
  readonly stp: SelfTradePrevention;
  readonly createdAt: number;
  qty: number;
  filledQty: number;
  /** limit price for limit and stop_limit, 0 otherwise (as in OrderView) */
  price: number;
  /** trigger price for stop and stop_limit, 0 otherwise */
  stopPrice: number;
  status: OrderStatus;
  triggered: boolean;
  filledNotional: number;
  fees: number;
  updatedAt: number;
  /**
   * The price this order may trade up to (buy) or down to (sell), and the price a buy reserves
   * cash at: the limit price, a market order's collar, or a stop's collar (see risk.ts).
   */
  limit: number;
  /** what this order holds right now: cents for a buy, shares for a sell */
  reserved: number;
  /**
   * a sell's position, whose shares it reserves (a position with reserved shares is never dropped);
   * looked up again whenever the order starts holding, since a held exit leg may wait for shares
   */
  position: Position | null;
  readonly orderClass: OrderClass;
  /** a leg: the id of the order it belongs to (0 for none) */
  readonly parentId: number;
  /**
   * a held exit leg: its entry, until the entry is done (then null and status leaves `held`, unless
   * its symbol cannot trade then: it stays `held`, releasable, until it can; see execution.ts)
   */
  parent: Order | null;
  /** an entry's exit legs while they are held */
  children: Order[] | null;
  /** the other leg of a one-cancels-other pair while both are open: the pair holds once (see classes.ts) */
  sibling: Order | null;
  /** trailing_stop: trail in ticks or in basis points (the other is 0), high-water mark (0: not tracking yet) */
  trailPrice: number;
  trailBps: number;
  hwm: number;
  activationPrice: number;
  /** the level (book or stop queue) this order waits in, with its neighbours in time priority */
  level: Level | null;
  prev: Order | null;
  next: Order | null;
  /** the owner's open orders, in acceptance order */
  accountPrev: Order | null;
  accountNext: Order | null;
}

export interface Level {
  readonly price: number;
  /** sort key: chosen by the ladder so that its best level has the highest key */
  readonly key: number;
  readonly ladder: Ladder;
  /** total open quantity (leaves) of the orders here */
  qty: number;
  count: number;
  head: Order | null;
  tail: Order | null;
  /** whether the level is in `ladder.levels` */
  listed: boolean;
  /** stamp of the last command that touched this level: one book_changed per level per command */
  touched: number;
}

export interface Ladder {
  readonly symbol: string;
  readonly side: Side;
  /** bids and sell stops trade / trigger from the highest price; asks and buy stops from the lowest */
  readonly bestIsHigh: boolean;
  /** a book side (reported in book_changed, keeps emptied levels for reuse) or a stop queue; see ladder.ts */
  readonly visible: boolean;
  /** every level of the ladder, live or (on a book side) kept empty for reuse */
  readonly byPrice: Map<number, Level>;
  /** empty levels kept in byPrice (book sides only) */
  empty: number;
  /** listed levels by price, best last; on a book side some may be empty, but never the last */
  readonly levels: PriceLevels<Level>;
}

export interface Book {
  readonly symbol: string;
  readonly spec: InstrumentSpec;
  readonly makerBps: number;
  readonly takerBps: number;
  /** buys reserve fees at the higher of the two rates: they do not know yet which they will pay */
  readonly reserveBps: number;
  halted: boolean;
  lastTradePrice: number | null;
  /** last trade price, or the spec's reference price before the first trade */
  referencePrice: number;
  readonly bids: Ladder;
  readonly asks: Ladder;
  /** untriggered buy stops, keyed by stop price: the lowest triggers first */
  readonly buyStops: Ladder;
  /** untriggered sell stops, keyed by stop price: the highest triggers first */
  readonly sellStops: Ladder;
  /** untriggered trailing stops (tracking or waiting for activation), updated on every trade; see trailing.ts */
  readonly trailing: Set<Order>;
}

export interface Position {
  readonly account: Account;
  readonly symbol: string;
  qty: number;
  reserved: number;
  cost: number;
  touched: number;
  qtyBefore: number;
  reservedBefore: number;
  costBefore: number;
}

export interface Account {
  readonly id: string;
  cash: number;
  reserved: number;
  readonly positions: Map<string, Position>;
  firstOrder: Order | null;
  lastOrder: Order | null;
  /** per-command bookkeeping for balance events (see context.ts) */
  touched: number;
  cashBefore: number;
  reservedBefore: number;
  traded: boolean;
}

export interface Engine {
  readonly config: ExchangeConfig;
  readonly feeAccount: Account;
  readonly books: Map<string, Book>;
  readonly accounts: Map<string, Account>;
  /** open orders only (resting, or stops waiting for their trigger) */
  readonly orders: OrderIndex<Order>;
  session: SessionState;
  marketHalted: boolean;
  nextTradeId: number;
  /** highest order id accepted so far: ids must increase, which keeps them unique forever in O(1) memory */
  lastOrderId: number;

  // Scratch state of the command being applied.
  /** increments per command; compared with the `touched` stamps of levels, accounts and positions */
  stamp: number;
  ts: number;
  events: EngineEvent[];
  /** set by deposit / withdraw so their balance event names them as the cause */
  cause: 'deposit' | 'withdraw' | null;
  /**
   * What the command touched, in order: scratch arrays reused by every command, valid up to their
   * count (resetting a JS array's length is a runtime call that drops its storage).
   */
  readonly touchedLevels: Level[];
  touchedLevelCount: number;
  readonly touchedAccounts: Account[];
  touchedAccountCount: number;
  readonly touchedPositions: Position[];
  touchedPositionCount: number;
  /** stops triggered by this command's trades, activated in order once the current taker is done */
  readonly triggered: Order[];
}

function createLadder(symbol: string, side: Side, bestIsHigh: boolean, visible: boolean): Ladder {
  return {
    symbol,
    side,
    bestIsHigh,
    visible,
    byPrice: new Map(),
    empty: 0,
    levels: createPriceLevels<Level>(),
  };
}

export function createLevel(ladder: Ladder, price: number): Level {
  return {
    price,
    key: ladder.bestIsHigh ? price : -price,
    ladder,
    qty: 0,
    count: 0,
    head: null,
    tail: null,
    listed: false,
    touched: 0,
  };
}

export function createBook(spec: InstrumentSpec, defaultFees: ExchangeConfig['fees']): Book {
  const fees = spec.fees ?? defaultFees;
  const symbol = spec.symbol;
  return {
    symbol,
    spec,
    makerBps: fees.makerBps,
    takerBps: fees.takerBps,
    reserveBps: Math.max(fees.makerBps, fees.takerBps),
    halted: false,
    lastTradePrice: null,
    referencePrice: spec.referencePrice,
    bids: createLadder(symbol, 'buy', true, true),
    asks: createLadder(symbol, 'sell', false, true),
    buyStops: createLadder(symbol, 'buy', false, false),
    sellStops: createLadder(symbol, 'sell', true, false),
    trailing: new Set(),
  };
}

export function createAccount(id: string): Account {
  return {
    id,
    cash: 0,
    reserved: 0,
    positions: new Map(),
    firstOrder: null,
    lastOrder: null,
    touched: 0,
    cashBefore: 0,
    reservedBefore: 0,
    traded: false,
  };
}

export function createPosition(account: Account, symbol: string): Position {
  return {
    account,
    symbol,
    qty: 0,
    reserved: 0,
    cost: 0,
    touched: 0,
    qtyBefore: 0,
    reservedBefore: 0,
    costBefore: 0,
  };
}

export function createEngine(config: ExchangeConfig): Engine {
  const feeAccount = createAccount(config.feeAccount);
  return {
    config,
    feeAccount,
    books: new Map(),
    accounts: new Map([[feeAccount.id, feeAccount]]),
    orders: createOrderIndex<Order>(),
    session: 'open',
    marketHalted: false,
    nextTradeId: 1,
    lastOrderId: 0,
    stamp: 0,
    ts: 0,
    events: [],
    cause: null,
    touchedLevels: [],
    touchedLevelCount: 0,
    touchedAccounts: [],
    touchedAccountCount: 0,
    touchedPositions: [],
    touchedPositionCount: 0,
    triggered: [],
  };
}

/** What differs between orders at creation; everything else starts the same. */
export type OrderInit = Pick<
  Order,
  | 'id'
  | 'account'
  | 'book'
  | 'side'
  | 'orderType'
  | 'tif'
  | 'postOnly'
  | 'stp'
  | 'createdAt'
  | 'qty'
  | 'price'
  | 'stopPrice'
  | 'limit'
  | 'position'
  | 'orderClass'
  | 'parentId'
  | 'trailPrice'
  | 'trailBps'
  | 'activationPrice'
>;

/** A new order with every field set (one shape for all orders, see the top of this file). */
export function createOrder(i: OrderInit): Order {
  const orderType = i.orderType;
  const hasLimit = orderType === 'limit' || orderType === 'stop_limit';
  return {
    id: i.id,
    accountId: i.account.id,
    account: i.account,
    book: i.book,
    side: i.side,
    isBuy: i.side === 'buy',
    orderType,
    isStopType: orderType === 'stop' || orderType === 'stop_limit' || orderType === 'trailing_stop',
    tif: i.tif,
    mayRest: hasLimit && (i.tif === 'day' || i.tif === 'gtc'),
    postOnly: i.postOnly,
    stp: i.stp,
    createdAt: i.createdAt,
    qty: i.qty,
    filledQty: 0,
    price: i.price,
    stopPrice: i.stopPrice,
    status: 'new',
    triggered: false,
    filledNotional: 0,
    fees: 0,
    updatedAt: i.createdAt,
    limit: i.limit,
    reserved: 0,
    position: i.position,
    orderClass: i.orderClass,
    parentId: i.parentId,
    parent: null,
    children: null,
    sibling: null,
    trailPrice: i.trailPrice,
    trailBps: i.trailBps,
    hwm: 0,
    activationPrice: i.activationPrice,
    level: null,
    prev: null,
    next: null,
    accountPrev: null,
    accountNext: null,
  };
}

export function leaves(o: Order): number {
  return o.qty - o.filledQty;
}

/** A stop, stop-limit or trailing stop that has not triggered yet: it waits in a stop queue, not on the book. */
export function isWaitingStop(o: Order): boolean {
  return o.isStopType && !o.triggered;
}

/** Stops that become market orders (with a collar) when they trigger. */
export function isMarketStop(o: { orderType: OrderType }): boolean {
  return o.orderType === 'stop' || o.orderType === 'trailing_stop';
}

export function isOpenOrder(o: Order): boolean {
  return o.status === 'new' || o.status === 'partially_filled' || o.status === 'held';
}
