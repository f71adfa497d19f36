/**
 * The header's equity: cash plus every position valued at one price per symbol, the same live
 * last price the Positions table shows (else the API's current price). One function for both, so
 * the header always equals cash + the table's values, whatever moved since the account was read.
 */
import { toCents } from './money.ts';
import { livePnl, type PositionLike } from './pnl.ts';

export interface Holdings<P extends PositionLike = PositionLike> {
  cash: string;
  positions: P[];
}

/** null while cash or a position's value is unknown */
export function equityCents(
  h: Holdings,
  lastCents: (symbol: string) => number | null | undefined,
): number | null {
  const cash = toCents(h.cash);
  if (cash === null) return null;
  let total = cash;
  for (const p of h.positions) {
    const value = livePnl(p, lastCents(p.symbol)).marketValueCents;
    if (value === null) return null;
    total += value;
  }
  return total;
}

const shape = (ps: readonly { symbol: string; qty: string }[]) =>
  ps
    .map((p) => `${p.symbol}:${p.qty}`)
    .sort()
    .join(',');

/**
 * Cash and positions of one instant. They are two reads; a fill between them would count a trade's
 * cash without its shares (or the reverse). So the positions are read on both sides of the cash:
 * when they agree, no fill came in between. A few tries, then the last pair (the next poll mends it).
 */
export async function readHoldings<A extends { cash: string }, P extends { symbol: string; qty: string }>(
  readAccount: () => Promise<A>,
  readPositions: () => Promise<P[]>,
  tries = 3,
): Promise<{ account: A; positions: P[] }> {
  let before = await readPositions();
  for (let i = 1; ; i++) {
    const account = await readAccount();
    const after = await readPositions();
    if (shape(after) === shape(before) || i >= tries) return { account, positions: after };
    before = after;
  }
}
