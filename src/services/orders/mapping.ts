/**
 * Conversions between the API's data (model.ts) and the engine's commands, events and views, and
 * from database rows. Shared by the service's handlers and the shard nodes' client
 * (shards/orders-client.ts), so that both answer alike.
 */
import {
  type CancelReason,
  type EngineEvent,
  idsTaken,
  type NewOrderCommand,
  type OrderView,
  type RejectReason,
  type ReplaceCommand,
} from '../../domain/exchange.ts';
import type {
  Balance,
  Execution,
  Instrument,
  NewOrderRequest,
  Order,
  Position,
  PublicTrade,
  ReplaceRequest,
} from './model.ts';

export const OPEN_STATUSES = ['held', 'new', 'partially_filled'] as const;

export const isOpen = (status: OrderView['status']): boolean =>
  status === 'new' || status === 'partially_filled' || status === 'held';

/** The view's order-class and trailing-stop fields, set only when they apply (as the engine does). */
export function classFields(
  v: Pick<
    OrderView,
    'orderType' | 'orderClass' | 'parentId' | 'trailPrice' | 'trailBps' | 'hwm' | 'activationPrice'
  >,
): Partial<OrderView> {
  const out: Partial<OrderView> = {};
  if (v.orderClass !== undefined && v.orderClass !== 'simple') out.orderClass = v.orderClass;
  if (v.parentId !== undefined && v.parentId !== 0) out.parentId = v.parentId;
  if (v.orderType === 'trailing_stop') {
    out.trailPrice = v.trailPrice ?? 0;
    out.trailBps = v.trailBps ?? 0;
    out.hwm = v.hwm ?? 0;
    out.activationPrice = v.activationPrice ?? 0;
  }
  return out;
}

export function toOrder(
  view: OrderView,
  clientOrderId: string | null,
  rejectReason: RejectReason | null = null,
  cancelReason: CancelReason | null = null,
): Order {
  return {
    id: view.id,
    account: view.account,
    clientOrderId,
    symbol: view.symbol,
    side: view.side,
    orderType: view.orderType,
    tif: view.tif,
    qty: view.qty,
    filledQty: view.filledQty,
    price: view.price,
    stopPrice: view.stopPrice,
    postOnly: view.postOnly,
    status: view.status,
    triggered: view.triggered,
    filledNotional: view.filledNotional,
    fees: view.fees,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
    ...classFields(view),
    rejectReason,
    cancelReason,
  };
}

export interface OrderRow {
  id: number;
  account: string;
  client_order_id: string | null;
  symbol: string;
  side: Order['side'];
  type: Order['orderType'];
  tif: Order['tif'];
  qty: number;
  filled_qty: number;
  price: number;
  stop_price: number;
  post_only: boolean;
  status: Order['status'];
  triggered: boolean;
  filled_notional: number;
  fees: number;
  reject_reason: RejectReason | null;
  cancel_reason: CancelReason | null;
  created_at: Date;
  updated_at: Date;
  order_class: NonNullable<OrderView['orderClass']>;
  parent_id: number | null;
  trail_price: number;
  trail_bps: number;
  hwm: number;
  activation_price: number;
}

export const ORDER_COLUMNS = `id, account, client_order_id, symbol, side, type, tif, qty, filled_qty, price, stop_price,
  post_only, status, triggered, filled_notional, fees, reject_reason, cancel_reason, created_at, updated_at,
  order_class, parent_id, trail_price, trail_bps, hwm, activation_price`;

/** The columns of an order row that make up the engine's view of it. */
export type OrderViewRow = Omit<OrderRow, 'client_order_id' | 'reject_reason' | 'cancel_reason'>;

export function orderViewOfRow(r: OrderViewRow): OrderView {
  return {
    id: r.id,
    account: r.account,
    symbol: r.symbol,
    side: r.side,
    orderType: r.type,
    tif: r.tif,
    qty: r.qty,
    filledQty: r.filled_qty,
    price: r.price,
    stopPrice: r.stop_price,
    postOnly: r.post_only,
    status: r.status,
    triggered: r.triggered,
    filledNotional: r.filled_notional,
    fees: r.fees,
    createdAt: r.created_at.getTime(),
    updatedAt: r.updated_at.getTime(),
    ...classFields({
      orderType: r.type,
      orderClass: r.order_class,
      parentId: r.parent_id ?? 0,
      trailPrice: r.trail_price,
      trailBps: r.trail_bps,
      hwm: r.hwm,
      activationPrice: r.activation_price,
    }),
  };
}

export function orderOfRow(r: OrderRow): Order {
  return {
    ...orderViewOfRow(r),
    clientOrderId: r.client_order_id,
    rejectReason: r.reject_reason,
    cancelReason: r.cancel_reason,
  };
}

export interface TradeRow {
  id: number;
  ts: Date;
  symbol: string;
  price: number;
  qty: number;
  buy_order_id: number;
  sell_order_id: number;
  buy_account: string;
  sell_account: string;
  aggressor: 'buy' | 'sell';
  buy_fee: number;
  sell_fee: number;
}

export const TRADE_COLUMNS =
  'id, ts, symbol, price, qty, buy_order_id, sell_order_id, buy_account, sell_account, aggressor, buy_fee, sell_fee';

/** One side of a trade as `account` sees it (a self-trade yields both sides). */
export function executionsOfRow(r: TradeRow, account: string): Execution[] {
  const out: Execution[] = [];
  const base = { tradeId: r.id, symbol: r.symbol, price: r.price, qty: r.qty, ts: r.ts.getTime() };
  if (r.buy_account === account) {
    out.push({
      ...base,
      orderId: r.buy_order_id,
      side: 'buy',
      fee: r.buy_fee,
      liquidity: r.aggressor === 'buy' ? 'taker' : 'maker',
    });
  }
  if (r.sell_account === account) {
    out.push({
      ...base,
      orderId: r.sell_order_id,
      side: 'sell',
      fee: r.sell_fee,
      liquidity: r.aggressor === 'sell' ? 'taker' : 'maker',
    });
  }
  return out;
}

export function publicTradeOfRow(r: TradeRow): PublicTrade {
  return {
    tradeId: r.id,
    symbol: r.symbol,
    price: r.price,
    qty: r.qty,
    aggressor: r.aggressor,
    ts: r.ts.getTime(),
  };
}

export const balanceOf = (account: string, cash: number, reserved: number): Balance => ({
  account,
  cash,
  reserved,
  available: cash - reserved,
});

export const positionOf = (
  account: string,
  symbol: string,
  qty: number,
  reserved: number,
  cost: number,
): Position => ({
  account,
  symbol,
  qty,
  reserved,
  available: qty - reserved,
  cost,
});

export interface InstrumentRow {
  symbol: string;
  tick_size: number;
  lot_size: number;
  min_qty: number;
  max_qty: number;
  price_band_bps: number;
  collar_bps: number;
  reference_price: number;
  maker_bps: number | null;
  taker_bps: number | null;
  halted: boolean;
  last_trade_price: number | null;
}

export function instrumentOfRow(r: InstrumentRow): Instrument {
  return {
    symbol: r.symbol,
    tickSize: r.tick_size,
    lotSize: r.lot_size,
    minQty: r.min_qty,
    maxQty: r.max_qty,
    priceBandBps: r.price_band_bps,
    collarBps: r.collar_bps,
    referencePrice: r.reference_price,
    ...(r.maker_bps !== null && r.taker_bps !== null
      ? { fees: { makerBps: r.maker_bps, takerBps: r.taker_bps } }
      : {}),
    halted: r.halted,
    lastTradePrice: r.last_trade_price,
  };
}

/** Drops undefined fields: the journal (jsonb) would drop them anyway, and intent comparison must agree. */
export function compact<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** Same request, ignoring what the sequencer stamps (ts, id): guards reuse of an idempotency key. */
export function sameIntent(journaled: object, input: object): boolean {
  const a = journaled as Record<string, unknown>;
  const b = input as Record<string, unknown>;
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  keys.delete('ts');
  keys.delete('id');
  keys.delete('clientOrderId'); // the key itself
  for (const k of keys) if (a[k] !== b[k]) return false;
  return true;
}

/** A validated order request as the engine's command (without the ts and id the sequencer stamps). */
export function newOrderInput(account: string, r: NewOrderRequest): Omit<NewOrderCommand, 'ts' | 'id'> {
  return compact({
    type: 'new_order',
    account,
    symbol: r.symbol,
    side: r.side,
    orderType: r.type,
    tif: r.tif ?? 'day',
    qty: r.qty,
    price: r.price,
    stopPrice: r.stopPrice,
    postOnly: r.postOnly,
    selfTradePrevention: r.selfTradePrevention,
    trailPrice: r.trailPrice,
    trailBps: r.trailBps,
    activationPrice: r.activationPrice,
    orderClass: r.orderClass,
    takeProfit: r.takeProfit,
    stopLoss: r.stopLoss,
  });
}

/** A validated cancel/replace request as the engine's command (without its ts). */
export function replaceInput(account: string, id: number, r: ReplaceRequest): Omit<ReplaceCommand, 'ts'> {
  return compact({
    type: 'replace',
    account,
    id,
    qty: r.qty,
    price: r.price,
    stopPrice: r.stopPrice,
    trailPrice: r.trailPrice,
    trailBps: r.trailBps,
  });
}

/** The last view of order `id` among a command's events, and its cancel reason if that was a cancel. */
export function lastViewOf(
  events: readonly (EngineEvent | { type: 'held' })[],
  id: number,
): { view: OrderView; cancelReason: CancelReason | null } | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!;
    if ('order' in e && e.order.id === id) {
      return { view: e.order, cancelReason: e.type === 'canceled' ? e.reason : null };
    }
  }
  return null;
}

/** A new order as its command's events left it, with its legs (which took the ids after it). */
export function orderOfEvents(
  events: readonly (EngineEvent | { type: 'held' })[],
  id: number,
  request: Pick<NewOrderRequest, 'clientOrderId' | 'takeProfit' | 'stopLoss'>,
): Order | null {
  const last = lastViewOf(events, id);
  if (!last) return null;
  const order = toOrder(last.view, request.clientOrderId ?? null, null, last.cancelReason);
  if (order.orderClass !== undefined) {
    order.legs = [];
    for (let k = 1; k < idsTaken(request); k++) {
      const leg = lastViewOf(events, id + k);
      if (leg) order.legs.push(toOrder(leg.view, null, null, leg.cancelReason));
    }
  }
  return order;
}
