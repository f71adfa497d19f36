/**
 * What a risk shard holds for an order before routing it: the most it can need at its matching
 * shard, from the instrument's rules and the last price the risk shard has seen. An estimate on
 * purpose: too much is handed back at once by the matching shard, too little gets the order
 * rejected there (insufficient funds or shares) and its holding handed back; neither can break
 * an invariant. For limit and stop-limit orders it is exact: the matching engine's own formula.
 */
import type { InstrumentSpec, NewOrderCommand, StopLossLeg } from '../../domain/exchange.ts';
import { BPS, buyReservation, collarUp } from '../arith.ts';

export interface Need {
  cash: number;
  shares: number;
}

export interface PriceContext {
  spec: InstrumentSpec;
  /** the last trade price the risk shard knows, or the spec's reference price */
  ref: number;
  /** the trade that `ref` came from (trade ids grow per matching shard, so per symbol) */
  refTradeId: number;
  /** max(maker, taker) bps of the instrument's fee schedule */
  reserveBps: number;
}

type OrderShape = Pick<
  NewOrderCommand,
  | 'side'
  | 'orderType'
  | 'qty'
  | 'price'
  | 'stopPrice'
  | 'trailPrice'
  | 'trailBps'
  | 'activationPrice'
  | 'orderClass'
  | 'takeProfit'
  | 'stopLoss'
>;

function ceilToTick(price: number, tick: number): number {
  const rem = price % tick;
  return rem === 0 ? price : price + tick - rem;
}

/** The highest price a buy trailing stop can start its stop at, from `base` (the activation or reference price). */
function trailingBuyStop(
  base: number,
  trailPrice: number | undefined,
  trailBps: number | undefined,
  tick: number,
) {
  const raw =
    trailPrice !== undefined && trailPrice > 0
      ? base + trailPrice
      : Math.ceil((base * (BPS + (trailBps ?? 0))) / BPS);
  return ceilToTick(raw, tick);
}

/** The highest price a buy of this shape can pay. */
function buyLimit(o: OrderShape | (StopLossLeg & { orderType?: string }), p: PriceContext): number {
  const tick = p.spec.tickSize;
  const collar = (ref: number) => collarUp(ref, p.spec.collarBps, tick);
  if (o.price !== undefined && o.price > 0) return o.price;
  if (o.trailPrice !== undefined || o.trailBps !== undefined) {
    const base = 'activationPrice' in o && o.activationPrice !== undefined ? o.activationPrice : p.ref;
    return collar(trailingBuyStop(Math.max(base, p.ref), o.trailPrice, o.trailBps, tick));
  }
  if (o.stopPrice !== undefined && o.stopPrice > 0) return collar(o.stopPrice);
  return collar(p.ref);
}

/** Cash (cents) and shares this order may hold at its matching shard, legs included. */
export function orderNeed(o: OrderShape, p: PriceContext): Need {
  const qty = o.qty;
  const isBuy = o.side === 'buy';
  let cash = isBuy ? buyReservation(qty, buyLimit(o, p), p.reserveBps) : 0;
  const shares = isBuy ? 0 : qty;
  const cls = o.orderClass ?? 'simple';
  // Exit legs that buy (a sell entry's bracket or oto, or a buy oco) hold cash for the whole entry;
  // legs that sell hold the shares the entry buys, or share the entry's (oco).
  const legsBuy = cls === 'oco' ? isBuy : !isBuy;
  if (cls !== 'simple' && legsBuy) {
    if (o.takeProfit !== undefined) {
      cash = Math.max(cash, buyReservation(qty, o.takeProfit.price, p.reserveBps));
    }
    if (o.stopLoss !== undefined) {
      cash = Math.max(cash, buyReservation(qty, buyLimit(o.stopLoss, p), p.reserveBps));
    }
  }
  return { cash, shares };
}
