import { useFrame } from '../lib/frame.ts';
import { fmtCents, fmtQty } from '../lib/money.ts';
import { state, store } from '../market.ts';

/** The depth ladder: asks above, bids below, bars sized by cumulative depth. Click a price to use it. */
export function OrderBook({
  symbol,
  onPrice,
  ownPrices,
}: {
  symbol: string;
  onPrice: (cents: number) => void;
  /** prices of the user's own resting orders, marked in the ladder */
  ownPrices: Set<number>;
}) {
  useFrame(store);
  const q = state.quotes.get(symbol);
  const asks = (q?.asks ?? []).slice(0, 10);
  const bids = (q?.bids ?? []).slice(0, 10);
  const cum = (levels: [number, number][]) => {
    let t = 0;
    return levels.map(([p, s]) => {
      t += s;
      return [p, s, t] as const;
    });
  };
  const a = cum(asks);
  const b = cum(bids);
  const max = Math.max(1, a[a.length - 1]?.[2] ?? 0, b[b.length - 1]?.[2] ?? 0);
  const spread = q?.askCents != null && q.bidCents != null ? q.askCents - q.bidCents : null;
  const row = (side: 'ask' | 'bid', [p, s, t]: readonly [number, number, number]) => (
    <tr key={`${side}${p}`} className={`${side}${ownPrices.has(p) ? ' own' : ''}`} data-price={fmtCents(p)}>
      <td className="r num">
        <button
          type="button"
          className="link num"
          aria-label={`Use price ${fmtCents(p)}`}
          onClick={() => onPrice(p)}
        >
          {fmtCents(p)}
        </button>
      </td>
      <td className="r num depth-cell">
        <span className={`depth ${side}`} style={{ width: `${(t / max) * 100}%` }} aria-hidden="true" />
        <span className="depth-text">{fmtQty(s)}</span>
      </td>
      <td className="r num muted">{fmtQty(t)}</td>
    </tr>
  );
  return (
    <section className="panel book" aria-labelledby="book-title">
      <h2 id="book-title">Order book {symbol}</h2>
      <table aria-label={`Order book ${symbol}`}>
        <thead>
          <tr>
            <th scope="col" className="r">
              Price
            </th>
            <th scope="col" className="r">
              Size
            </th>
            <th scope="col" className="r">
              Total
            </th>
          </tr>
        </thead>
        <tbody>
          {[...a].reverse().map((l) => row('ask', l))}
          <tr className="spread">
            <td colSpan={3} className="c muted">
              {spread === null ? 'no two-sided market' : `spread ${fmtCents(spread)}`}
            </td>
          </tr>
          {b.map((l) => row('bid', l))}
        </tbody>
      </table>
    </section>
  );
}
