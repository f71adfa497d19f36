/**
 * FIFO lots in integer cents, fed one event at a time so that an account's history streams
 * through it (memory holds the open lots, not the fills). Same conventions as fifoPnl in
 * src/domain/analytics (checked against it by fifo.test.ts): a lot costs qty × price + fee; the
 * still-open part of a lot carries floor(fee × openQty / qty) of the fee and each closed piece the
 * difference; a sell's fee is split across the lots it closes the same way. fifoPnl itself takes
 * the whole history at once and knows nothing of share transfers, hence this streaming ledger:
 * a transfer in opens a lot at floor(cost / qty) a share (the remainder of the cost plays the
 * fee's part); a transfer out removes shares oldest first at cost, realising nothing.
 */

export interface Lot {
  /** when the lot was opened, epoch ms */
  openedAt: number;
  /** shares still open */
  qty: number;
  /** cents per share paid */
  price: number;
  origQty: number;
  origFee: number;
}

export interface ClosedTrade {
  symbol: string;
  at: number;
  qty: number;
  proceeds: number;
  cost: number;
  /** proceeds − cost, cents */
  pnl: number;
}

export interface SymbolBook {
  lots: Lot[];
  realised: number;
}

/** floor(amount × part / whole), exact. */
function share(amount: number, whole: number, part: number): number {
  return Number((BigInt(amount) * BigInt(part)) / BigInt(whole));
}

/** The fee still carried by a lot with openQty shares open. */
const feeOf = (lot: Lot, openQty: number) => share(lot.origFee, lot.origQty, openQty);

/** Cost basis of a lot's open shares, cents. */
export const lotCost = (lot: Lot): number => lot.qty * lot.price + feeOf(lot, lot.qty);

export class FifoLedger {
  readonly books = new Map<string, SymbolBook>();

  book(symbol: string): SymbolBook {
    let b = this.books.get(symbol);
    if (!b) {
      b = { lots: [], realised: 0 };
      this.books.set(symbol, b);
    }
    return b;
  }

  buy(symbol: string, at: number, qty: number, price: number, fee: number): void {
    this.book(symbol).lots.push({ openedAt: at, qty, price, origQty: qty, origFee: fee });
  }

  transferIn(symbol: string, at: number, qty: number, cost: number): void {
    const price = Math.floor(cost / qty);
    this.buy(symbol, at, qty, price, cost - price * qty);
  }

  /** Removes qty shares oldest first and returns their cost. Shares beyond the lots cost nothing. */
  private remove(symbol: string, qty: number, perPiece?: (take: number, before: number) => void): number {
    const b = this.book(symbol);
    let left = qty;
    let cost = 0;
    while (left > 0 && b.lots.length > 0) {
      const lot = b.lots[0]!;
      const take = Math.min(left, lot.qty);
      perPiece?.(take, qty - left);
      cost += take * lot.price + feeOf(lot, lot.qty) - feeOf(lot, lot.qty - take);
      lot.qty -= take;
      left -= take;
      if (lot.qty === 0) b.lots.shift();
    }
    return cost;
  }

  /** A sale: realises (qty × price − fee) − FIFO cost. */
  sell(symbol: string, at: number, qty: number, price: number, fee: number): ClosedTrade {
    const proceeds = qty * price - fee;
    const cost = this.remove(symbol, qty);
    const pnl = proceeds - cost;
    this.book(symbol).realised += pnl;
    return { symbol, at, qty, proceeds, cost, pnl };
  }

  transferOut(symbol: string, qty: number): void {
    this.remove(symbol, qty);
  }
}
