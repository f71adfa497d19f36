/**
 * FIFO lot matching for realised and unrealised P&L, in integer cents (Bourse money is integer
 * cents, quantities whole shares). Long positions only: a sell beyond the shares held throws.
 *
 * Fees: a buy fee is part of the lot's cost basis; a sell fee reduces the proceeds. When a
 * lot or a sell is split across several matches its fee is split in proportion to shares, and
 * the integer rounding is settled so the pieces add up exactly to the fee:
 * - the still-open part of a buy lot carries floor(fee × openQty / qty); each closed piece takes
 *   the difference, so the rounding remainder goes to the pieces closed first;
 * - likewise the first c shares of a sell carry fee − floor(fee × (qty − c) / qty), so the
 *   first lot matched by a sell takes the remainder.
 * Both rules depend only on how many shares are closed, not on how the sells were sliced.
 *
 * Fills are matched in the order given, which must be execution order (ts never decreasing).
 */

export type FillSide = 'buy' | 'sell';

export interface Fill {
  ts: number;
  side: FillSide;
  /** whole shares, > 0 */
  qty: number;
  /** cents per share, ≥ 0 */
  price: number;
  /** cents, ≥ 0 */
  fee: number;
}

export interface OpenLot {
  qty: number;
  /** cents per share paid */
  price: number;
  /** when the buy filled */
  ts: number;
  /** the part of the buy fee still carried by this lot, cents */
  fee: number;
  /** qty × price + fee, cents */
  cost: number;
}

export interface ClosedTrade {
  qty: number;
  buyPrice: number;
  sellPrice: number;
  /** buy fee allocated to these shares */
  buyFee: number;
  /** sell fee allocated to these shares */
  sellFee: number;
  /** qty × (sellPrice − buyPrice) − buyFee − sellFee, cents */
  pnl: number;
  openedAt: number;
  closedAt: number;
}

export interface FifoPnl {
  /** oldest first */
  openLots: OpenLot[];
  /** shares held */
  position: number;
  /** Σ cost of the open lots, cents */
  costBasis: number;
  /** Σ pnl of closedTrades, cents */
  realised: number;
  /** Σ (qty × markPrice − cost) of the open lots, cents; null without a mark price */
  unrealised: number | null;
  /** one per (buy lot, sell fill) pair matched, in matching order */
  closedTrades: ClosedTrade[];
}

interface Lot {
  qty: number;
  price: number;
  ts: number;
  origQty: number;
  origFee: number;
}

export function fifoPnl(fills: readonly Fill[], markPrice?: number): FifoPnl {
  if (markPrice !== undefined) nonNegativeInt('markPrice', markPrice);
  const lots: Lot[] = [];
  const closedTrades: ClosedTrade[] = [];
  let head = 0;
  let position = 0;
  let realised = 0;
  fills.forEach((f, i) => {
    checkFill(f, i);
    if (i > 0 && f.ts < fills[i - 1]!.ts) throw new RangeError(`fill ${i}: fills must be in execution order`);
    if (f.side === 'buy') {
      lots.push({ qty: f.qty, price: f.price, ts: f.ts, origQty: f.qty, origFee: f.fee });
      position += f.qty;
      return;
    }
    if (f.qty > position)
      throw new RangeError(`fill ${i}: sell of ${f.qty} exceeds the ${position} shares held`);
    let sold = 0;
    while (sold < f.qty) {
      const lot = lots[head]!;
      const take = Math.min(lot.qty, f.qty - sold);
      const buyFee = lotFee(lot, lot.qty) - lotFee(lot, lot.qty - take);
      const sellFee = share(f.fee, f.qty, f.qty - sold) - share(f.fee, f.qty, f.qty - sold - take);
      const pnl = take * (f.price - lot.price) - buyFee - sellFee;
      closedTrades.push({
        qty: take,
        buyPrice: lot.price,
        sellPrice: f.price,
        buyFee,
        sellFee,
        pnl,
        openedAt: lot.ts,
        closedAt: f.ts,
      });
      realised += pnl;
      lot.qty -= take;
      sold += take;
      if (lot.qty === 0) head++;
    }
    position -= f.qty;
  });
  const openLots = lots.slice(head).map((lot) => {
    const fee = lotFee(lot, lot.qty);
    return { qty: lot.qty, price: lot.price, ts: lot.ts, fee, cost: lot.qty * lot.price + fee };
  });
  const costBasis = openLots.reduce((s, l) => s + l.cost, 0);
  const unrealised =
    markPrice === undefined ? null : openLots.reduce((s, l) => s + l.qty * markPrice - l.cost, 0);
  for (const [name, v] of [
    ['realised', realised],
    ['costBasis', costBasis],
    ['unrealised', unrealised ?? 0],
  ] as const) {
    if (!Number.isSafeInteger(v)) throw new RangeError(`${name} exceeds the safe integer range`);
  }
  return { openLots, position, costBasis, realised, unrealised, closedTrades };
}

/** The buy fee carried by `openQty` shares of a lot: floor(fee × openQty / qty), exact in BigInt. */
function lotFee(lot: Lot, openQty: number): number {
  return share(lot.origFee, lot.origQty, openQty);
}

/** floor(amount × part / whole) without float rounding or overflow. */
function share(amount: number, whole: number, part: number): number {
  return Number((BigInt(amount) * BigInt(part)) / BigInt(whole));
}

function checkFill(f: Fill, i: number): void {
  if (f.side !== 'buy' && f.side !== 'sell') throw new RangeError(`fill ${i}: side must be buy or sell`);
  if (!(Number.isSafeInteger(f.qty) && f.qty > 0))
    throw new RangeError(`fill ${i}: qty must be a positive integer`);
  nonNegativeInt(`fill ${i} price`, f.price);
  nonNegativeInt(`fill ${i} fee`, f.fee);
  if (!Number.isSafeInteger(f.qty * f.price + f.fee))
    throw new RangeError(`fill ${i}: notional exceeds the safe integer range`);
  if (!Number.isFinite(f.ts)) throw new RangeError(`fill ${i}: ts must be a number`);
}

function nonNegativeInt(name: string, x: number): void {
  if (!(Number.isSafeInteger(x) && x >= 0))
    throw new RangeError(`${name} must be a non-negative integer (cents), got ${x}`);
}
