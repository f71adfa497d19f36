/**
 * The exchange core's language: commands in, events out. Plain data, integers only.
 *
 * Units: prices in ticks of one cent (integer cents), quantities in whole shares, cash in cents,
 * times in epoch milliseconds supplied by the caller (the engine never reads a clock).
 */

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
/**
 * simple: one order. bracket: an entry, then a take-profit limit and a stop-loss (stop, stop-limit or
 * trailing stop) held until the entry fills, the two exits one-cancels-other. oto: an entry and one
 * held exit. oco: a limit and a stop-loss, both working at once, one-cancels-other.
 */
export type OrderClass = 'simple' | 'bracket' | 'oco' | 'oto';
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok';
export type SessionState = 'pre_open' | 'open' | 'closed';
/** What happens when an incoming order would trade against a resting order of the same account. */
export type SelfTradePrevention = 'cancel_resting' | 'cancel_incoming' | 'cancel_both' | 'allow';
export type Liquidity = 'maker' | 'taker';
export type OrderStatus =
  | 'held' // an exit leg waiting for its entry (parent) to fill
  | 'new' // resting on the book (or a stop waiting for its trigger)
  | 'partially_filled'
  | 'filled'
  | 'canceled'
  | 'expired'
  | 'rejected';

/** Reasons are stable strings: the API maps them to problem+json types and messages. */
export type RejectReason =
  | 'unknown_symbol'
  | 'unknown_account'
  | 'unknown_order'
  | 'duplicate_order_id'
  | 'not_owner'
  | 'invalid_quantity'
  | 'invalid_price'
  | 'off_tick'
  | 'off_lot'
  | 'below_min_qty'
  | 'above_max_qty'
  | 'outside_price_band'
  | 'symbol_halted'
  | 'market_halted'
  | 'market_closed'
  | 'not_allowed_pre_open'
  | 'post_only_would_take'
  | 'fok_not_fillable'
  | 'insufficient_funds'
  | 'insufficient_shares'
  | 'no_reference_price'
  | 'order_not_open'
  | 'invalid_replace'
  | 'invalid_amount'
  | 'duplicate_symbol'
  | 'invalid_instrument'
  | 'invalid_trail' // trailing stop: trail_price / trail_percent / activation price missing or malformed
  | 'invalid_order_class'; // order class, take_profit or stop_loss missing, malformed or inconsistent

export type CancelReason =
  | 'user' // cancel command
  | 'ioc_remainder' // IOC (and market) leftover after matching
  | 'collar' // market order / triggered stop would have traded outside the price collar
  | 'no_liquidity' // market order found nothing (more) to trade against
  | 'self_trade' // self-trade prevention
  | 'halted' // reserved for admin mass-cancel
  | 'oco' // the other leg of its one-cancels-other pair filled or was cancelled
  | 'parent'; // an exit leg whose entry was cancelled before any fill

export interface FeeSchedule {
  /** basis points of notional charged to the resting side; 0..1000 */
  makerBps: number;
  /** basis points of notional charged to the aggressor; 0..1000 */
  takerBps: number;
}

export interface InstrumentSpec {
  symbol: string;
  /** price increment in cents (1 = one cent) */
  tickSize: number;
  /** quantity increment in shares */
  lotSize: number;
  minQty: number;
  maxQty: number;
  /** reject a limit price further than this many basis points from the reference price (0 = no band) */
  priceBandBps: number;
  /** market orders and triggered stops never trade further than this from the reference price */
  collarBps: number;
  /** initial reference price (previous close) in cents; replaced by each last trade price */
  referencePrice: number;
  /** optional per-instrument fee schedule; the exchange default otherwise */
  fees?: FeeSchedule;
}

export interface ExchangeConfig {
  fees: FeeSchedule;
  selfTradePrevention: SelfTradePrevention;
  /** account that collects fees; must not trade */
  feeAccount: string;
}

// ---------------------------------------------------------------------------------------------
// Commands. Every command carries `ts` (epoch ms, from the sequencer's clock) so that replay
// reproduces the same timestamps.

export interface NewOrderCommand {
  type: 'new_order';
  ts: number;
  /** order id assigned by the caller (the sequencer); unique forever within one engine */
  id: number;
  account: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  qty: number;
  /** limit price for limit and stop_limit */
  price?: number;
  /** trigger price for stop and stop_limit (compared with the last trade price) */
  stopPrice?: number;
  postOnly?: boolean;
  /** overrides the exchange default for this order */
  selfTradePrevention?: SelfTradePrevention;
  /** trailing_stop: the trail in ticks (cents), or `trailBps` (basis points of the high-water mark) */
  trailPrice?: number;
  trailBps?: number;
  /** trailing_stop: do not track until the last price reaches this (sell: >=, buy: <=) */
  activationPrice?: number;
  /** default simple. Legs take the next ids: id + 1 (take profit, or the oco stop), id + 2 (stop loss). */
  orderClass?: OrderClass;
  /** bracket, oto: the exit limit (opposite side, same quantity) */
  takeProfit?: { price: number };
  /** bracket, oto, oco: a stop (stopPrice), stop-limit (stopPrice, price) or trailing stop (trailPrice | trailBps) */
  stopLoss?: StopLossLeg;
}

/** How many ids a new order takes: its own and its legs' (the ids right after it). */
export function idsTaken(c: Pick<NewOrderCommand, 'takeProfit' | 'stopLoss'>): number {
  return 1 + (c.takeProfit === undefined ? 0 : 1) + (c.stopLoss === undefined ? 0 : 1);
}

export interface StopLossLeg {
  stopPrice?: number;
  price?: number;
  trailPrice?: number;
  trailBps?: number;
}

export interface CancelCommand {
  type: 'cancel';
  ts: number;
  id: number;
  /** the account that asks; must own the order */
  account: string;
}

/** Cancel/replace. `qty` is the new total quantity (filled included), as in FIX and Alpaca. */
export interface ReplaceCommand {
  type: 'replace';
  ts: number;
  id: number;
  account: string;
  qty?: number;
  price?: number;
  stopPrice?: number;
  /** trailing_stop: a new trail (one of the two; it replaces the other kind) */
  trailPrice?: number;
  trailBps?: number;
}

export interface DepositCommand {
  type: 'deposit';
  ts: number;
  account: string;
  /** cents, > 0 */
  amount: number;
}

export interface WithdrawCommand {
  type: 'withdraw';
  ts: number;
  account: string;
  amount: number;
}

/**
 * Opens an account with nothing in it, or does nothing if it is open. A matching shard opens the
 * account of an order routed to it before moving in what the order holds (see engine/shards).
 */
export interface OpenAccountCommand {
  type: 'open_account';
  ts: number;
  account: string;
}

/** Shares moved in from outside (a transfer from another broker, or the demo market maker's inventory). */
export interface TransferSharesCommand {
  type: 'transfer_shares';
  ts: number;
  account: string;
  symbol: string;
  /** positive moves shares in; negative moves free (unreserved) shares out */
  qty: number;
  /** cost basis in cents of the shares moved in (ignored when moving out) */
  cost: number;
}

export interface AddInstrumentCommand {
  type: 'add_instrument';
  ts: number;
  spec: InstrumentSpec;
}

export interface HaltCommand {
  type: 'halt';
  ts: number;
  /** null = market-wide */
  symbol: string | null;
  halted: boolean;
}

/** Session change. Moving to `closed` expires every DAY order (resting or waiting stop). */
export interface SessionCommand {
  type: 'session';
  ts: number;
  state: SessionState;
}

export type Command =
  | NewOrderCommand
  | CancelCommand
  | ReplaceCommand
  | DepositCommand
  | WithdrawCommand
  | TransferSharesCommand
  | OpenAccountCommand
  | AddInstrumentCommand
  | HaltCommand
  | SessionCommand;

// ---------------------------------------------------------------------------------------------
// Events. The sequence of events for a command is fully determined by the state and the command.

/** A snapshot of the order after the command, attached to order events. */
export interface OrderView {
  id: number;
  account: string;
  symbol: string;
  side: Side;
  orderType: OrderType;
  tif: TimeInForce;
  qty: number;
  filledQty: number;
  /** limit price (0 for a market order) */
  price: number;
  stopPrice: number;
  postOnly: boolean;
  status: OrderStatus;
  /** true once a stop / stop_limit has triggered */
  triggered: boolean;
  /** sum of fill price × qty, cents, for average fill price */
  filledNotional: number;
  /** fees paid so far, cents */
  fees: number;
  createdAt: number;
  updatedAt: number;
  // Set only when they apply, so that plain orders' views (and journaled verdicts) stay as they were.
  /** bracket, oco, oto (simple is left out) */
  orderClass?: OrderClass;
  /** a leg: the order it belongs to (bracket / oto entry, or an oco's limit) */
  parentId?: number;
  /** trailing_stop: the trail (one of the two is 0), the high-water mark (0 until it tracks) */
  trailPrice?: number;
  trailBps?: number;
  hwm?: number;
  activationPrice?: number;
}

export interface AcceptedEvent {
  type: 'accepted';
  order: OrderView;
}
export interface RejectedEvent {
  type: 'rejected';
  /** the command that was rejected (new_order, cancel, replace, deposit, withdraw, ...) */
  command: Command['type'];
  /** order id when the command names one */
  id?: number;
  account?: string;
  reason: RejectReason;
}
/** One execution between two orders. Cash moves: buyer pays price×qty+buyFee, seller gets price×qty−sellFee. */
export interface TradeEvent {
  type: 'trade';
  /** engine-wide trade sequence number, starting at 1 */
  tradeId: number;
  ts: number;
  symbol: string;
  price: number;
  qty: number;
  buyOrderId: number;
  sellOrderId: number;
  buyAccount: string;
  sellAccount: string;
  /** side of the aggressor (taker) */
  aggressor: Side;
  buyFee: number;
  sellFee: number;
}
/** Per-order view of a trade. */
export interface FillEvent {
  type: 'fill';
  tradeId: number;
  order: OrderView;
  price: number;
  qty: number;
  fee: number;
  liquidity: Liquidity;
}
export interface CanceledEvent {
  type: 'canceled';
  order: OrderView;
  reason: CancelReason;
}
export interface ExpiredEvent {
  type: 'expired';
  order: OrderView;
}
export interface ReplacedEvent {
  type: 'replaced';
  order: OrderView;
  /** whether the order kept its time priority */
  keptPriority: boolean;
}
/** A held exit leg starts working: its entry filled (or was cancelled after a partial fill). */
export interface ReleasedEvent {
  type: 'released';
  order: OrderView;
}
/** A trailing stop's high-water mark moved (or it reached its activation price): new hwm and stop price. */
export interface TrailedEvent {
  type: 'trailed';
  order: OrderView;
}
export interface TriggeredEvent {
  type: 'triggered';
  order: OrderView;
}
/** Aggregated level after the command: qty 0 means the level is gone. */
export interface BookChangedEvent {
  type: 'book_changed';
  symbol: string;
  side: Side;
  price: number;
  qty: number;
  orders: number;
}
export interface BalanceChangedEvent {
  type: 'balance';
  account: string;
  cash: number;
  reserved: number;
  /** what caused it: deposit, withdraw, trade, fee, reserve, release */
  cause: 'deposit' | 'withdraw' | 'trade' | 'reserve';
  /** signed cash change for deposit/withdraw/trade, 0 for reservation changes */
  delta: number;
}
export interface PositionChangedEvent {
  type: 'position';
  account: string;
  symbol: string;
  qty: number;
  reserved: number;
  /** cost basis in cents of the shares held (average cost = cost / qty) */
  cost: number;
}
export interface InstrumentEvent {
  type: 'instrument';
  spec: InstrumentSpec;
}
export interface HaltEvent {
  type: 'halt';
  symbol: string | null;
  halted: boolean;
}
export interface SessionEvent {
  type: 'session';
  state: SessionState;
}

export type EngineEvent =
  | AcceptedEvent
  | RejectedEvent
  | TradeEvent
  | FillEvent
  | CanceledEvent
  | ExpiredEvent
  | ReplacedEvent
  | TriggeredEvent
  | ReleasedEvent
  | TrailedEvent
  | BookChangedEvent
  | BalanceChangedEvent
  | PositionChangedEvent
  | InstrumentEvent
  | HaltEvent
  | SessionEvent;
