/**
 * Integer arithmetic for money, and the bounds that keep it exact.
 *
 * Every amount in the engine is an integer held in a double. Products stay exact as long as they
 * stay below 2^53, so the engine bounds what it accepts (prices, quantities, order notional) such
 * that `notional * bps` never leaves that range, and falls back to BigInt for the one product it
 * cannot bound (a position's cost basis times a sold quantity).
 */

export const BPS = 10_000;

/** Highest price accepted, in cents ($100M a share): keeps price × (BPS + bps) far inside 2^53. */
export const MAX_PRICE = 10_000_000_000;
/** Highest order quantity accepted, in shares. */
export const MAX_QTY = 1_000_000_000;
/** Highest notional of one order, in cents: `MAX_NOTIONAL * BPS` is still a safe integer. */
export const MAX_NOTIONAL = Math.floor(Number.MAX_SAFE_INTEGER / BPS);
/** Fee rates are capped at 10% so that a fee never exceeds the notional it is charged on. */
export const MAX_FEE_BPS = 1_000;
export const MAX_COLLAR_BPS = BPS;
export const MAX_BAND_BPS = 10 * BPS;

export function isPositiveInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n > 0;
}

export function isNonNegativeInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * Fee on a notional, rounded down to the cent. Rounding down makes the fee superadditive
 * (fee(a) + fee(b) <= fee(a + b)), which is what lets a reservation computed for the whole order
 * always cover the sum of the fees of its partial fills.
 *
 * `Math.floor(x / BPS)` is exact for integer x < 2^53: the true quotient is either an integer or at
 * least 1/BPS away from one, and the double rounding error below 2^40 is smaller than that.
 */
export function fee(notional: number, bps: number): number {
  return Math.floor((notional * bps) / BPS);
}

/** Cash a buy needs to cover `qty` shares at `price` including the highest fee it may pay. */
export function buyReservation(qty: number, price: number, bps: number): number {
  const notional = qty * price;
  return notional + fee(notional, bps);
}

/** Highest price a protected buy may pay: ref × (1 + collar), rounded down to the tick grid. */
export function collarUp(ref: number, collarBps: number, tick: number): number {
  const raw = Math.floor((ref * (BPS + collarBps)) / BPS);
  return raw - (raw % tick);
}

/** Lowest price a protected sell may accept: ref × (1 − collar), rounded up to the tick grid. */
export function collarDown(ref: number, collarBps: number, tick: number): number {
  const raw = Math.ceil((ref * (BPS - collarBps)) / BPS);
  const rem = raw % tick;
  return rem === 0 ? raw : raw + tick - rem;
}

/** Whether `price` is further than `bandBps` from `ref` (0 disables the band). */
export function outsideBand(price: number, ref: number, bandBps: number): boolean {
  return bandBps > 0 && Math.abs(price - ref) * BPS > ref * bandBps;
}

/** floor(a × b / c) for non-negative safe integers, exact even when a × b exceeds 2^53. */
export function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  // Below 2^53 the product is exact and the double quotient's rounding error is smaller than
  // 1/c, so flooring it cannot cross an integer.
  if (product <= Number.MAX_SAFE_INTEGER) return Math.floor(product / c);
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}
