import { useFrame } from '../lib/frame.ts';
import { fmtCents, fmtQty } from '../lib/money.ts';
import { state, store } from '../market.ts';

export function Tape({ symbol }: { symbol: string }) {
  useFrame(store);
  const trades = (state.tape.get(symbol) ?? []).slice(0, 25);
  return (
    <section className="panel tape" aria-labelledby="tape-title">
      <h2 id="tape-title">Trades {symbol}</h2>
      {trades.length === 0 ? (
        <p className="muted">No trades seen yet.</p>
      ) : (
        <table aria-label={`Recent trades ${symbol}`}>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col" className="r">
                Price
              </th>
              <th scope="col" className="r">
                Size
              </th>
            </tr>
          </thead>
          <tbody>
            {trades.map((t) => (
              <tr key={t.id}>
                <td className="num muted">{new Date(t.ts).toLocaleTimeString()}</td>
                <td className={`r num ${t.side ?? ''}`}>{fmtCents(t.priceCents)}</td>
                <td className="r num">{fmtQty(t.size)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
