/**
 * The order ticket's rules, checked before anything is sent: the same ones the exchange applies
 * (whole shares, prices on the 0.01 grid, a limit price for limit orders…), plus what the client
 * knows of the account (buying power, shares available). The API still has the last word.
 */
import { feeCents, MAKER_BPS, TAKER_BPS } from './fees.ts';
import { centsToDecimal } from './money.ts';

export type Side = 'buy' | 'sell';
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit' | 'trailing_stop';
/** simple; bracket: entry + take-profit + stop-loss; oto: entry + one exit; oco: limit + stop-loss */
export type OrderClass = 'simple' | 'bracket' | 'oco' | 'oto';
export type TrailUnit = 'price' | 'percent';
export type TimeInForce = 'day' | 'gtc' | 'ioc' | 'fok';

export interface TicketInput {
  symbol: string;
  side: Side;
  type: OrderType;
  tif: TimeInForce;
  qty: string;
  limitPrice: string;
  stopPrice: string;
  /** trailing_stop: the trail, in dollars or percent (`trailUnit`) */
  trail?: string;
  trailUnit?: TrailUnit;
  orderClass?: OrderClass;
  /** bracket / oto: the take-profit limit price ('' for none in an oto) */
  takeProfit?: string;
  /** bracket / oto / oco: the stop-loss stop price, or with `stopLossTrail` a trailing stop-loss */
  stopLoss?: string;
  stopLossTrail?: string;
}

export interface TicketContext {
  /** cash not reserved by open buy orders, cents; null when unknown */
  buyingPowerCents: number | null;
  /** shares of the symbol not reserved by open sell orders; null when unknown */
  availableShares: number | null;
  lastCents: number | null;
  bidCents: number | null;
  askCents: number | null;
  halted?: boolean;
}

export type TicketField =
  | 'symbol'
  | 'qty'
  | 'limit_price'
  | 'stop_price'
  | 'trail'
  | 'take_profit'
  | 'stop_loss'
  | 'form';

export interface Estimate {
  /** price the estimate assumes, cents */
  priceCents: number;
  notionalCents: number;
  liquidity: 'maker' | 'taker';
  feeCents: number;
  /** buy: what it costs (notional + fee); sell: what it brings (notional − fee) */
  totalCents: number;
}

export interface NewOrderBody {
  symbol: string;
  qty: string;
  side: Side;
  type: OrderType;
  time_in_force: TimeInForce;
  limit_price?: string;
  stop_price?: string;
  trail_price?: string;
  trail_percent?: string;
  order_class?: Exclude<OrderClass, 'simple'>;
  take_profit?: { limit_price: string };
  stop_loss?: { stop_price: string } | { trail_price: string } | { trail_percent: string };
}

export interface TicketCheck {
  errors: Partial<Record<TicketField, string>>;
  estimate: Estimate | null;
  /** the request to send when there are no errors */
  body: NewOrderBody | null;
}

const WHOLE = /^\d+$/;
const PRICE = /^\d+(?:\.\d+)?$/;
const MAX_QTY = 1_000_000_000;

const TAKES_LIMIT: ReadonlySet<OrderType> = new Set(['limit', 'stop_limit']);
const TAKES_STOP: ReadonlySet<OrderType> = new Set(['stop', 'stop_limit']);

export const typeLabel: Record<OrderType, string> = {
  market: 'Market',
  limit: 'Limit',
  stop: 'Stop',
  stop_limit: 'Stop limit',
  trailing_stop: 'Trailing stop',
};

export const classLabel: Record<OrderClass, string> = {
  simple: 'Simple',
  bracket: 'Bracket',
  oco: 'OCO',
  oto: 'OTO',
};

const PERCENT = /^\d+(?:\.\d{1,2})?$/;

/** A trail in the ticket's unit → the request's field, or why not. */
function parseTrail(
  raw: string,
  unit: TrailUnit,
  label: string,
): { field: Record<string, string> } | { error: string } {
  if (unit === 'price') {
    const p = parsePrice(raw, label);
    return 'error' in p ? p : { field: { trail_price: centsToDecimal(p.cents) } };
  }
  const s = raw.trim();
  if (!PERCENT.test(s) || Number(s) <= 0 || Number(s) >= 100)
    return { error: `${label} must be a percent like 1.5 (above 0, below 100, at most 2 decimals)` };
  return { field: { trail_percent: s } };
}

/** "187.25" → 18725; null with a message when it is not a positive price on the 0.01 grid. */
export function parsePrice(raw: string, label: string): { cents: number } | { error: string } {
  const s = raw.trim();
  if (s === '') return { error: `${label} is required` };
  if (!PRICE.test(s)) return { error: `${label} must be a number like 187.25` };
  const [whole = '0', frac = ''] = s.split('.');
  if (frac.length > 2 && /[1-9]/.test(frac.slice(2))) {
    return { error: `${label} must be on the 0.01 tick grid (at most 2 decimals)` };
  }
  const cents = Number(whole) * 100 + Number((frac + '00').slice(0, 2));
  if (!Number.isSafeInteger(cents)) return { error: `${label} is too large` };
  if (cents <= 0) return { error: `${label} must be greater than 0` };
  return { cents };
}

export function parseQty(raw: string): { qty: number } | { error: string } {
  const s = raw.trim();
  if (s === '') return { error: 'Quantity is required' };
  if (!WHOLE.test(s)) return { error: 'Quantity must be a positive whole number of shares' };
  const qty = Number(s);
  if (qty <= 0) return { error: 'Quantity must be a positive whole number of shares' };
  if (qty > MAX_QTY) return { error: `Quantity must be at most ${MAX_QTY.toLocaleString('en-US')}` };
  return { qty };
}

export function checkTicket(input: TicketInput, ctx: TicketContext): TicketCheck {
  const errors: TicketCheck['errors'] = {};
  if (!/^[A-Z][A-Z0-9_-]{0,15}$/.test(input.symbol)) errors.symbol = 'Choose a symbol';
  if (ctx.halted) errors.form = `${input.symbol} is halted: orders are refused until trading resumes`;

  const q = parseQty(input.qty);
  if ('error' in q) errors.qty = q.error;

  let limit: number | null = null;
  if (TAKES_LIMIT.has(input.type)) {
    const p = parsePrice(input.limitPrice, 'Limit price');
    if ('error' in p) errors.limit_price = p.error;
    else limit = p.cents;
  }
  let stop: number | null = null;
  if (TAKES_STOP.has(input.type)) {
    const p = parsePrice(input.stopPrice, 'Stop price');
    if ('error' in p) errors.stop_price = p.error;
    else stop = p.cents;
  }
  if (limit !== null && stop !== null && input.type === 'stop_limit') {
    if (input.side === 'buy' && limit < stop)
      errors.limit_price = 'A buy stop-limit needs limit price ≥ stop price';
    if (input.side === 'sell' && limit > stop)
      errors.limit_price = 'A sell stop-limit needs limit price ≤ stop price';
  }

  const orderClass = input.orderClass ?? 'simple';
  const unit = input.trailUnit ?? 'price';
  let trailField: Record<string, string> = {};
  if (input.type === 'trailing_stop') {
    const t = parseTrail(input.trail ?? '', unit, 'Trail');
    if ('error' in t) errors.trail = t.error;
    else trailField = t.field;
  }
  // Legs: the exits are on the other side of a bracket's / oto's entry, on the same side as an oco.
  let takeProfit: number | null = null;
  let stopLossBody: NewOrderBody['stop_loss'];
  if (orderClass !== 'simple') {
    if (orderClass === 'oco' && input.type !== 'limit')
      errors.form = 'An OCO is a limit order (the take-profit) with a stop-loss';
    if (orderClass !== 'oco' && input.type !== 'market' && input.type !== 'limit')
      errors.form = `A ${classLabel[orderClass].toLowerCase()} entry is a market or limit order`;
    if (input.tif === 'ioc' || input.tif === 'fok')
      errors.form = 'Order classes need day or good-till-cancelled';
    const wantTp = orderClass === 'bracket' || (orderClass === 'oto' && (input.takeProfit ?? '') !== '');
    if (wantTp) {
      const p = parsePrice(input.takeProfit ?? '', 'Take profit');
      if ('error' in p) errors.take_profit = p.error;
      else takeProfit = p.cents;
    }
    const wantSl =
      orderClass !== 'oto' || !wantTp || (input.stopLoss ?? '') !== '' || (input.stopLossTrail ?? '') !== '';
    if (wantSl) {
      if ((input.stopLossTrail ?? '') !== '') {
        const t = parseTrail(input.stopLossTrail ?? '', unit, 'Stop-loss trail');
        if ('error' in t) errors.stop_loss = t.error;
        else stopLossBody = t.field as NewOrderBody['stop_loss'];
      } else {
        const p = parsePrice(input.stopLoss ?? '', 'Stop loss');
        if ('error' in p) errors.stop_loss = p.error;
        else {
          stopLossBody = { stop_price: centsToDecimal(p.cents) };
          const exitSells = orderClass === 'oco' ? input.side === 'sell' : input.side === 'buy';
          const tp = orderClass === 'oco' ? limit : takeProfit;
          if (tp !== null && (exitSells ? tp <= p.cents : tp >= p.cents))
            errors.stop_loss = exitSells
              ? 'The stop loss must be below the take profit'
              : 'The stop loss must be above the take profit';
        }
      }
    }
  }

  // the price the order would most likely trade at, and whether it would rest (maker) or take
  let price: number | null = null;
  let liquidity: 'maker' | 'taker' = 'taker';
  if (input.type === 'limit' && limit !== null) {
    price = limit;
    const opposite = input.side === 'buy' ? ctx.askCents : ctx.bidCents;
    const crosses = opposite !== null && (input.side === 'buy' ? limit >= opposite : limit <= opposite);
    liquidity = crosses ? 'taker' : 'maker';
    if (crosses && opposite !== null) price = opposite;
  } else if (input.type === 'stop_limit') {
    price = limit;
  } else if (input.type === 'stop') {
    price = stop;
  } else if (input.type === 'market') {
    price = (input.side === 'buy' ? ctx.askCents : ctx.bidCents) ?? ctx.lastCents;
  }

  let estimate: Estimate | null = null;
  if ('qty' in q && price !== null) {
    const notional = price * q.qty;
    const fee = feeCents(notional, liquidity === 'maker' ? MAKER_BPS : TAKER_BPS);
    estimate = {
      priceCents: price,
      notionalCents: notional,
      liquidity,
      feeCents: fee,
      totalCents: input.side === 'buy' ? notional + fee : notional - fee,
    };
  }

  if ('qty' in q) {
    if (input.side === 'buy' && ctx.buyingPowerCents !== null) {
      // the exchange reserves limit × qty plus the largest (taker) fee
      const reservePrice = limit ?? stop ?? price;
      if (reservePrice !== null) {
        const notional = reservePrice * q.qty;
        const need = notional + feeCents(notional, TAKER_BPS);
        if (need > ctx.buyingPowerCents) {
          errors.form = `Insufficient buying power: this order needs $${centsToDecimal(need)}, you have $${centsToDecimal(ctx.buyingPowerCents)}`;
        }
      }
    }
    if (input.side === 'sell' && ctx.availableShares !== null && q.qty > ctx.availableShares) {
      errors.qty =
        ctx.availableShares === 0
          ? `You hold no ${input.symbol} shares to sell (no short selling)`
          : `Only ${ctx.availableShares} ${input.symbol} shares are available to sell`;
    }
  }

  const ok = Object.keys(errors).length === 0 && 'qty' in q;
  const body: NewOrderBody | null = ok
    ? {
        symbol: input.symbol,
        qty: String(q.qty),
        side: input.side,
        type: input.type,
        time_in_force: input.tif,
        ...(limit !== null && { limit_price: centsToDecimal(limit) }),
        ...(stop !== null && { stop_price: centsToDecimal(stop) }),
        ...trailField,
        ...(orderClass !== 'simple' && { order_class: orderClass }),
        ...(orderClass === 'oco' &&
          limit !== null && { take_profit: { limit_price: centsToDecimal(limit) } }),
        ...(takeProfit !== null && { take_profit: { limit_price: centsToDecimal(takeProfit) } }),
        ...(stopLossBody !== undefined && { stop_loss: stopLossBody }),
      }
    : null;
  return { errors, estimate, body };
}
