/**
 * Instrument and market rules shared by new orders and replaces. Each check returns the reason to
 * reject, or null. The command types already rule out malformed enums; the engine still checks
 * them because a journal is data, and it must reject rather than throw.
 */
import type {
  InstrumentSpec,
  OrderType,
  RejectReason,
  SelfTradePrevention,
  Side,
  TimeInForce,
} from '../domain/exchange.ts';
import {
  BPS,
  isNonNegativeInt,
  isPositiveInt,
  MAX_BAND_BPS,
  MAX_COLLAR_BPS,
  MAX_FEE_BPS,
  MAX_PRICE,
  MAX_QTY,
} from './arith.ts';
import type { Book, Engine } from './model.ts';

export function isSide(v: unknown): v is Side {
  return v === 'buy' || v === 'sell';
}

export function isOrderType(v: unknown): v is OrderType {
  return v === 'limit' || v === 'market' || v === 'stop' || v === 'stop_limit' || v === 'trailing_stop';
}

/**
 * A trailing stop's trail: exactly one of a price on the tick grid or basis points of the
 * high-water mark below 100% (the edge turns Alpaca's percent into basis points).
 */
export function trailProblem(
  trailPrice: unknown,
  trailBps: unknown,
  spec: InstrumentSpec,
): RejectReason | null {
  if ((trailPrice === undefined) === (trailBps === undefined)) return 'invalid_trail';
  if (trailPrice !== undefined) return priceProblem(trailPrice, spec) === null ? null : 'invalid_trail';
  return isPositiveInt(trailBps) && trailBps < BPS ? null : 'invalid_trail';
}

export function isTimeInForce(v: unknown): v is TimeInForce {
  return v === 'day' || v === 'gtc' || v === 'ioc' || v === 'fok';
}

export function isSelfTradePrevention(v: unknown): v is SelfTradePrevention {
  return v === 'cancel_resting' || v === 'cancel_incoming' || v === 'cancel_both' || v === 'allow';
}

/** A price must be a positive integer on the tick grid; it is rejected, never rounded. */
export function priceProblem(price: unknown, spec: InstrumentSpec): RejectReason | null {
  if (!isPositiveInt(price) || price > MAX_PRICE) return 'invalid_price';
  return price % spec.tickSize === 0 ? null : 'off_tick';
}

/** Lot, minimum and maximum rules on an order's total quantity (the caller checked it is a positive integer). */
export function sizeProblem(qty: number, spec: InstrumentSpec): RejectReason | null {
  if (qty % spec.lotSize !== 0) return 'off_lot';
  if (qty < spec.minQty) return 'below_min_qty';
  if (qty > spec.maxQty) return 'above_max_qty';
  return null;
}

/** Whether the market lets this symbol take new orders or replaces right now. */
export function tradingProblem(e: Engine, book: Book): RejectReason | null {
  if (e.session === 'closed') return 'market_closed';
  if (e.marketHalted) return 'market_halted';
  if (book.halted) return 'symbol_halted';
  return null;
}

export function validInstrument(s: InstrumentSpec): boolean {
  if (s === null || typeof s !== 'object') return false;
  if (typeof s.symbol !== 'string' || s.symbol.length === 0) return false;
  if (!isPositiveInt(s.tickSize) || s.tickSize > MAX_PRICE) return false;
  if (!isPositiveInt(s.lotSize) || s.lotSize > MAX_QTY) return false;
  if (!isPositiveInt(s.minQty) || !isPositiveInt(s.maxQty)) return false;
  if (s.minQty > s.maxQty || s.maxQty > MAX_QTY) return false;
  if (!isNonNegativeInt(s.priceBandBps) || s.priceBandBps > MAX_BAND_BPS) return false;
  if (!isNonNegativeInt(s.collarBps) || s.collarBps > MAX_COLLAR_BPS) return false;
  if (!isPositiveInt(s.referencePrice) || s.referencePrice > MAX_PRICE) return false;
  if (s.referencePrice % s.tickSize !== 0) return false;
  return s.fees === undefined || validFees(s.fees);
}

export function validFees(f: { makerBps: number; takerBps: number }): boolean {
  return (
    f !== null &&
    typeof f === 'object' &&
    isNonNegativeInt(f.makerBps) &&
    f.makerBps <= MAX_FEE_BPS &&
    isNonNegativeInt(f.takerBps) &&
    f.takerBps <= MAX_FEE_BPS
  );
}
