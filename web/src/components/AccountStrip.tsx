import { equityCents } from '../lib/equity.ts';
import { useFrame } from '../lib/frame.ts';
import { fmtCents, toCents } from '../lib/money.ts';
import { state, store } from '../market.ts';
import type { Account, Position } from '../types.ts';

/**
 * Equity, cash and buying power. Equity is computed here, on every frame, from the cash and the
 * positions of one read and the live prices the Positions table shows, not taken from the account's
 * own figure, which the server valued at another instant.
 */
export function AccountStrip({
  account,
  positions,
}: {
  account: Account | null;
  positions: Position[] | null;
}) {
  useFrame(store);
  const equity =
    account && positions
      ? equityCents({ cash: account.cash, positions }, (s) => state.quotes.get(s)?.lastCents)
      : null;
  return (
    <dl className="account-strip" aria-label="Account summary">
      <dt>Equity</dt>
      <dd className="num" data-testid="equity">
        {fmtCents(equity ?? toCents(account?.equity))}
      </dd>
      <dt>Cash</dt>
      <dd className="num">{fmtCents(toCents(account?.cash))}</dd>
      <dt>Buying power</dt>
      <dd className="num" data-testid="buying-power">
        {fmtCents(toCents(account?.buying_power))}
      </dd>
    </dl>
  );
}
