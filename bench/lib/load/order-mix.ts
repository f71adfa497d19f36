/**
 * The order flow both order benches send, as a pure function of the request index (the worker
 * thread can compute request i without state). Every instrument is referenced at $10.00; each
 * account holds shares of one "home" symbol (account mod symbols) and cash.
 *
 *   two in three: a passive GTC limit buy of 1 share at $9.50..$9.99 on a symbol other than the
 *                 account's home symbol (it rests on the book);
 *   one in three: an IOC limit sell of 1 share at $9.00 of the account's home symbol, which crosses
 *                 the best resting buy (a trade) whenever one is there, else is canceled.
 * A buyer never meets its own sell, so no self-trade rule interferes.
 */
export const REFERENCE_PRICE_CENTS = 1_000;
export const SELL_PRICE_CENTS = 900;

export interface MixOrder {
  account: number;
  symbol: number;
  side: 'buy' | 'sell';
  tif: 'gtc' | 'ioc';
  priceCents: number;
  qty: number;
}

/** A 32-bit integer hash (lowbias32): spreads consecutive indices over accounts and symbols. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

export function orderAt(i: number, accounts: number, symbols: number): MixOrder {
  if (accounts < 1 || symbols < 2) throw new Error('the order mix needs ≥ 1 account and ≥ 2 symbols');
  const h = mix32(i);
  const account = h % accounts;
  const home = account % symbols;
  if (i % 3 === 0)
    return { account, symbol: home, side: 'sell', tif: 'ioc', priceCents: SELL_PRICE_CENTS, qty: 1 };
  const other = (home + 1 + (mix32(h) % (symbols - 1))) % symbols;
  return { account, symbol: other, side: 'buy', tif: 'gtc', priceCents: 950 + ((h >>> 8) % 50), qty: 1 };
}

/** "9.57" from 957 cents. */
export function dollars(cents: number): string {
  return `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
}
