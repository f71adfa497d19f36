/**
 * The orders service's API data: what its HTTP routes and its in-process client return and take.
 * Integers only (cents, shares, epoch milliseconds); the public gateway converts to decimal
 * strings. Re-exported by client.ts, the only file other services may import from here.
 */
import type {
  CancelReason,
  InstrumentSpec,
  Liquidity,
  OrderClass,
  OrderStatus,
  OrderType,
  OrderView,
  RejectReason,
  SelfTradePrevention,
  SessionState,
  Side,
  StopLossLeg,
  TimeInForce,
} from '../../domain/exchange.ts';

export type {
  CancelReason,
  InstrumentSpec,
  Liquidity,
  OrderClass,
  OrderStatus,
  OrderType,
  RejectReason,
  SelfTradePrevention,
  SessionState,
  Side,
  StopLossLeg,
  TimeInForce,
};

/** An order as the service reports it: the engine's view plus what the service adds. */
export interface Order extends OrderView {
  clientOrderId: string | null;
  /** set when status is 'rejected' */
  rejectReason: RejectReason | null;
  /** set when status is 'canceled' */
  cancelReason: CancelReason | null;
  /** an entry of a bracket, oto or oco: its legs (take-profit first), as Alpaca's `legs` */
  legs?: Order[];
}

export interface NewOrderRequest {
  symbol: string;
  side: Side;
  type: OrderType;
  /** default 'day' */
  tif?: TimeInForce;
  qty: number;
  /** limit price in cents (limit, stop_limit) */
  price?: number;
  /** trigger price in cents (stop, stop_limit) */
  stopPrice?: number;
  postOnly?: boolean;
  /** unique per account; a resubmission returns the original order */
  clientOrderId?: string;
  selfTradePrevention?: SelfTradePrevention;
  /** trailing_stop: the trail in cents, or in basis points of the high-water mark (one of the two) */
  trailPrice?: number;
  trailBps?: number;
  /** trailing_stop: it starts tracking when the last price reaches this (sell: >=, buy: <=) */
  activationPrice?: number;
  /** default simple; bracket and oto need a market or limit entry, oco a limit (the take-profit) */
  orderClass?: OrderClass;
  /** bracket, oto: the take-profit limit in cents */
  takeProfit?: { price: number };
  /** bracket, oto, oco: a stop (stopPrice), stop-limit (stopPrice, price) or trailing stop (trailPrice | trailBps) */
  stopLoss?: StopLossLeg;
}

/** Cancel/replace: `qty` is the new total quantity (filled included). At least one field. */
export interface ReplaceRequest {
  qty?: number;
  price?: number;
  stopPrice?: number;
  /** trailing_stop: a new trail (one of the two) */
  trailPrice?: number;
  trailBps?: number;
}

export interface OrderResult {
  order: Order;
  /** true when this was a resubmission of an already known client order id */
  replayed: boolean;
}

export type OrderStatusFilter = 'open' | 'closed' | 'all';

export interface PageQuery {
  /** 1..500, default 100 */
  limit?: number;
  /** opaque, from a previous page's nextCursor */
  cursor?: string;
}

export interface ListOrdersQuery extends PageQuery {
  status?: OrderStatusFilter;
  symbol?: string;
}

export interface Page<T> {
  items: T[];
  /** null on the last page */
  nextCursor: string | null;
}

/** One side of a trade, as the account that took part sees it. */
export interface Execution {
  tradeId: number;
  orderId: number;
  symbol: string;
  side: Side;
  price: number;
  qty: number;
  fee: number;
  liquidity: Liquidity;
  ts: number;
}

/** A trade on the public tape: no accounts, no order ids. */
export interface PublicTrade {
  tradeId: number;
  symbol: string;
  price: number;
  qty: number;
  aggressor: Side;
  ts: number;
}

export interface Balance {
  account: string;
  cash: number;
  /** blocked by open buy orders */
  reserved: number;
  /** cash − reserved */
  available: number;
}

export interface Position {
  account: string;
  symbol: string;
  qty: number;
  /** blocked by open sell orders */
  reserved: number;
  available: number;
  /** cost basis in cents of the shares held */
  cost: number;
}

export interface CashRequest {
  /** cents, > 0 */
  amount: number;
  /** makes the request safe to retry: the same key returns the original outcome */
  idempotencyKey?: string;
}

export interface ShareTransferRequest {
  symbol: string;
  /** > 0 moves shares in, < 0 moves free shares out */
  qty: number;
  /** cost basis in cents of the shares moved in; ignored when moving out */
  cost?: number;
  idempotencyKey?: string;
}

export interface CashResult {
  /** journal sequence number of the movement */
  seq: number;
  replayed: boolean;
  balance: Balance;
}

export interface ShareTransferResult {
  seq: number;
  replayed: boolean;
  position: Position;
}

export interface CashMovement {
  seq: number;
  ts: number;
  kind: 'deposit' | 'withdraw';
  amount: number;
}

export interface Instrument extends InstrumentSpec {
  halted: boolean;
  lastTradePrice: number | null;
}

export interface ExchangeStatus {
  session: SessionState;
  marketHalted: boolean;
  /** the last journal entry committed */
  lastSeq: number;
}

/** The orders service's storage, as the operator status shows it (storage-status.ts). */
export interface StorageStatus {
  journal: {
    /** table and indexes, bytes on disk */
    bytes: number;
    /** the oldest entry still in the table (null: none) */
    firstSeq: number | null;
    rows: number;
    /** entries up to here were archived (retention.ts) to archiveDir */
    archivedSeq: number;
    archiveDir: string;
  };
  snapshots: {
    bytes: number;
    count: number;
    lastSeq: number | null;
    lastTakenAt: string | null;
    lastAgeMs: number | null;
  };
  seqs: { committed: number; projected: number; published: number };
  /** journal entries committed but not yet in the derived tables / not yet sent on the bus */
  lag: { projection: number; outbox: number };
  lastBackup: { takenAt: string; journalSeq: number; bytes: number; file: string } | null;
}

export interface DepthLevel {
  price: number;
  qty: number;
  orders: number;
}

/** Committed book depth: never shows effects that are not yet durable. */
export interface BookDepth {
  symbol: string;
  /** best first */
  bids: DepthLevel[];
  asks: DepthLevel[];
  /** journal sequence number this depth reflects */
  seq: number;
}

export interface HaltRequest {
  /** null halts or resumes the whole market */
  symbol: string | null;
  halted: boolean;
}
