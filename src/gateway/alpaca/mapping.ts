/**
 * The orders service's integer data → Alpaca Trading API v2 objects (snake_case, decimal strings,
 * RFC 3339 times, UUID ids). Pure functions.
 */

import { accountNumber, assetUuid, orderUuid } from '../../domain/alpaca-ids.ts';
import type {
  Balance,
  CashMovement,
  Execution,
  Instrument,
  Order,
  Position,
} from '../../services/orders/client.ts';
import { formatBpsPercent, formatCents, formatInt, formatRatio, formatRatioCents } from './decimal.ts';

/** Bourse is not one of Alpaca's venue codes; '' is the value every Alpaca SDK accepts. */
export const EXCHANGE = '';

const iso = (ms: number): string => new Date(ms).toISOString();
const at = (o: Order, status: Order['status']): string | null =>
  o.status === status ? iso(o.updatedAt) : null;
const takesLimit = (type: Order['orderType']) => type === 'limit' || type === 'stop_limit';
const takesStop = (type: Order['orderType']) => type === 'stop' || type === 'stop_limit';
/** 0 means none: a trailing stop's stop price and mark before it tracks, an absent trail */
const centsOrNull = (cents: number | undefined): string | null =>
  cents === undefined || cents === 0 ? null : formatCents(cents);

export function alpacaOrder(o: Order): AlpacaOrder {
  const trailing = o.orderType === 'trailing_stop';
  return {
    id: orderUuid(o.id),
    // the gateway always sends one; an order placed another way is named by its id
    client_order_id: o.clientOrderId ?? orderUuid(o.id),
    created_at: iso(o.createdAt),
    updated_at: iso(o.updatedAt),
    submitted_at: iso(o.createdAt),
    filled_at: at(o, 'filled'),
    expired_at: at(o, 'expired'),
    canceled_at: at(o, 'canceled'),
    failed_at: at(o, 'rejected'),
    replaced_at: null,
    replaced_by: null,
    replaces: null,
    asset_id: assetUuid(o.symbol),
    symbol: o.symbol,
    asset_class: 'us_equity',
    notional: null,
    qty: formatInt(o.qty),
    filled_qty: formatInt(o.filledQty),
    filled_avg_price: o.filledQty > 0 ? formatRatioCents(o.filledNotional, o.filledQty) : null,
    order_class: o.orderClass ?? 'simple',
    order_type: o.orderType,
    type: o.orderType,
    side: o.side,
    time_in_force: o.tif,
    limit_price: takesLimit(o.orderType) ? formatCents(o.price) : null,
    // a trailing stop's current stop price (null until it tracks)
    stop_price: takesStop(o.orderType)
      ? formatCents(o.stopPrice)
      : trailing
        ? centsOrNull(o.stopPrice)
        : null,
    status: o.status,
    extended_hours: false,
    legs: o.legs === undefined ? null : o.legs.map(alpacaOrder),
    trail_percent: trailing && o.trailBps ? formatBpsPercent(o.trailBps) : null,
    trail_price: trailing ? centsOrNull(o.trailPrice) : null,
    hwm: trailing ? centsOrNull(o.hwm) : null,
    activation_price: trailing ? centsOrNull(o.activationPrice) : null,
  };
}

export interface AlpacaOrder {
  id: string;
  client_order_id: string;
  created_at: string;
  updated_at: string;
  submitted_at: string;
  filled_at: string | null;
  expired_at: string | null;
  canceled_at: string | null;
  failed_at: string | null;
  replaced_at: null;
  replaced_by: null;
  replaces: null;
  asset_id: string;
  symbol: string;
  asset_class: string;
  notional: null;
  qty: string;
  filled_qty: string;
  filled_avg_price: string | null;
  order_class: string;
  order_type: Order['orderType'];
  type: Order['orderType'];
  side: Order['side'];
  time_in_force: Order['tif'];
  limit_price: string | null;
  stop_price: string | null;
  status: Order['status'];
  extended_hours: boolean;
  legs: AlpacaOrder[] | null;
  trail_percent: string | null;
  trail_price: string | null;
  hwm: string | null;
  activation_price: string | null;
}

export function alpacaAsset(i: Instrument) {
  return {
    id: assetUuid(i.symbol),
    class: 'us_equity',
    exchange: EXCHANGE,
    symbol: i.symbol,
    name: i.symbol,
    status: 'active',
    tradable: !i.halted,
    marginable: false,
    shortable: false,
    easy_to_borrow: false,
    fractionable: false,
    min_order_size: formatInt(i.minQty),
    min_trade_increment: formatInt(i.lotSize),
    price_increment: formatCents(i.tickSize),
    attributes: [] as string[],
  };
}

/** Prices of a symbol: the last trade (or the reference before any), and the reference itself. */
export interface Marks {
  current: number;
  lastday: number;
}

export function marksOf(i: Instrument | undefined): Marks | undefined {
  if (!i) return undefined;
  return { current: i.lastTradePrice ?? i.referencePrice, lastday: i.referencePrice };
}

export function alpacaPosition(p: Position, marks: Marks | undefined) {
  const current = marks?.current ?? 0;
  const lastday = marks?.lastday ?? current;
  const marketValue = p.qty * current;
  const lastdayValue = p.qty * lastday;
  const pl = marketValue - p.cost;
  const intraday = marketValue - lastdayValue;
  return {
    asset_id: assetUuid(p.symbol),
    symbol: p.symbol,
    exchange: EXCHANGE,
    asset_class: 'us_equity',
    asset_marginable: false,
    qty: formatInt(p.qty),
    qty_available: formatInt(p.available),
    avg_entry_price: p.qty > 0 ? formatRatioCents(p.cost, p.qty) : '0.00',
    side: 'long',
    market_value: formatCents(marketValue),
    cost_basis: formatCents(p.cost),
    unrealized_pl: formatCents(pl),
    unrealized_plpc: formatRatio(p.cost > 0 ? pl / p.cost : 0),
    unrealized_intraday_pl: formatCents(intraday),
    unrealized_intraday_plpc: formatRatio(lastdayValue > 0 ? intraday / lastdayValue : 0),
    current_price: formatCents(current),
    lastday_price: formatCents(lastday),
    change_today: formatRatio(lastday > 0 ? current / lastday - 1 : 0),
  };
}

export function alpacaAccount(
  userId: string,
  createdAt: string | null,
  balance: Balance,
  positions: readonly Position[],
  marks: (symbol: string) => Marks | undefined,
  now: number,
) {
  let long = 0;
  let lastdayLong = 0;
  for (const p of positions) {
    const m = marks(p.symbol);
    long += p.qty * (m?.current ?? 0);
    lastdayLong += p.qty * (m?.lastday ?? 0);
  }
  const equity = formatCents(balance.cash + long);
  const buyingPower = formatCents(balance.available);
  return {
    id: userId,
    account_number: accountNumber(userId),
    status: 'ACTIVE',
    currency: 'USD',
    cash: formatCents(balance.cash),
    buying_power: buyingPower,
    regt_buying_power: buyingPower,
    daytrading_buying_power: buyingPower,
    effective_buying_power: buyingPower,
    non_marginable_buying_power: buyingPower,
    portfolio_value: equity,
    equity,
    last_equity: formatCents(balance.cash + lastdayLong),
    long_market_value: formatCents(long),
    short_market_value: '0.00',
    position_market_value: formatCents(long),
    initial_margin: '0.00',
    maintenance_margin: '0.00',
    last_maintenance_margin: '0.00',
    sma: '0.00',
    multiplier: '1',
    accrued_fees: '0.00',
    pending_transfer_in: '0.00',
    pending_transfer_out: '0.00',
    daytrade_count: 0,
    pattern_day_trader: false,
    trading_blocked: false,
    transfers_blocked: false,
    account_blocked: false,
    trade_suspended_by_user: false,
    shorting_enabled: false,
    created_at: createdAt,
    balance_asof: iso(now).slice(0, 10),
    bourse_reserved_cash: formatCents(balance.reserved),
  };
}

/** `20260115143000123::<uuid>`: Alpaca's activity id form, sortable by time. */
function activityId(ts: number, kind: string, n: number): string {
  const t = iso(ts).replace(/[-:TZ.]/g, '');
  return `${t}::${assetUuid(`${kind}:${n}`)}`;
}

export interface FillContext {
  /** the order's quantity and its filled quantity right after this execution */
  orderQty: number;
  cumQty: number;
}

export function fillActivity(userId: string, e: Execution, ctx: FillContext) {
  const complete = ctx.cumQty >= ctx.orderQty;
  return {
    id: activityId(e.ts, `fill:${e.side}`, e.tradeId),
    account_id: userId,
    activity_type: 'FILL' as const,
    transaction_time: iso(e.ts),
    type: complete ? 'fill' : 'partial_fill',
    price: formatCents(e.price),
    qty: formatInt(e.qty),
    side: e.side,
    symbol: e.symbol,
    leaves_qty: formatInt(Math.max(0, ctx.orderQty - ctx.cumQty)),
    cum_qty: formatInt(ctx.cumQty),
    order_id: orderUuid(e.orderId),
    order_status: complete ? 'filled' : 'partially_filled',
  };
}

export function cashActivity(userId: string, m: CashMovement) {
  const deposit = m.kind === 'deposit';
  return {
    id: activityId(m.ts, 'cash', m.seq),
    account_id: userId,
    activity_type: deposit ? ('CSD' as const) : ('CSW' as const),
    date: iso(m.ts).slice(0, 10),
    net_amount: formatCents(deposit ? m.amount : -m.amount),
    description: deposit ? 'Cash deposit' : 'Cash withdrawal',
    status: 'executed',
  };
}

/**
 * An orders-service execution event (`orders.exec.<account>` on the bus) as Alpaca's
 * `trade_updates` data, or null for the events Alpaca has no name for (a stop triggered, a
 * bracket's exit released, a trailing stop moved: the order's next event says what matters).
 * The gateway may import only the orders client, so the event's shape is written out here.
 */
export interface ExecEvent {
  ts: number;
  kind: string;
  order: Order | null;
  fill?: { tradeId: number; price: number; qty: number };
  command?: string;
}

export function tradeUpdate(e: ExecEvent): Record<string, unknown> | null {
  if (!e.order) return null;
  const base = { timestamp: iso(e.ts), order: alpacaOrder(e.order) };
  switch (e.kind) {
    case 'accepted':
      return { event: 'new', ...base };
    case 'fill': {
      if (!e.fill) return null;
      return {
        event: e.order.status === 'filled' ? 'fill' : 'partial_fill',
        ...base,
        execution_id: activityId(e.ts, `fill:${e.order.side}`, e.fill.tradeId),
        price: formatCents(e.fill.price),
        qty: formatInt(e.fill.qty),
      };
    }
    case 'canceled':
    case 'expired':
    case 'replaced':
      return { event: e.kind, ...base };
    case 'rejected':
      return {
        event:
          e.command === 'cancel'
            ? 'order_cancel_rejected'
            : e.command === 'replace'
              ? 'order_replace_rejected'
              : 'rejected',
        ...base,
      };
    default:
      return null;
  }
}
