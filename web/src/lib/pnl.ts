/** Unrealised P&L of a long position at a live price, in cents (cost basis from the API). */
import { toCents } from './money.ts';

export interface PositionLike {
  symbol: string;
  qty: string;
  avg_entry_price: string;
  cost_basis: string;
  current_price: string;
  lastday_price?: string;
}

export interface LivePnl {
  priceCents: number | null;
  marketValueCents: number | null;
  unrealisedCents: number | null;
  /** unrealised / cost basis */
  ratio: number | null;
}

export function livePnl(p: PositionLike, liveLastCents: number | null | undefined): LivePnl {
  const qty = Number(p.qty);
  const cost = toCents(p.cost_basis);
  const price = liveLastCents ?? toCents(p.current_price);
  if (price === null || !Number.isFinite(qty) || cost === null) {
    return { priceCents: price, marketValueCents: null, unrealisedCents: null, ratio: null };
  }
  const value = price * qty;
  const pl = value - cost;
  return {
    priceCents: price,
    marketValueCents: value,
    unrealisedCents: pl,
    ratio: cost === 0 ? null : pl / cost,
  };
}
