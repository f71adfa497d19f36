import { type KeyboardEvent, useRef } from 'react';
import { useFrame } from '../lib/frame.ts';
import { direction, fmtCents, fmtPct } from '../lib/money.ts';
import { state, store } from '../market.ts';

/** Symbols with live last price and change; arrow keys move, Enter/click selects. */
export function Watchlist({
  symbols,
  selected,
  onSelect,
}: {
  symbols: string[];
  selected: string;
  onSelect: (s: string) => void;
}) {
  useFrame(store);
  const list = useRef<HTMLTableSectionElement>(null);
  function onKey(e: KeyboardEvent, i: number) {
    const next = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const rows = list.current?.querySelectorAll<HTMLButtonElement>('button');
    rows?.[(next + symbols.length) % symbols.length]?.focus();
  }
  return (
    <section className="panel watchlist" aria-labelledby="wl-title">
      <h2 id="wl-title">Watchlist</h2>
      <table>
        <thead>
          <tr>
            <th scope="col">Symbol</th>
            <th scope="col" className="r">
              Last
            </th>
            <th scope="col" className="r">
              Chg
            </th>
          </tr>
        </thead>
        <tbody ref={list}>
          {symbols.map((s, i) => {
            const q = state.quotes.get(s);
            const last = q?.lastCents ?? null;
            const ref = q?.refCents ?? null;
            const change = last !== null && ref !== null && ref !== 0 ? (last - ref) / ref : null;
            return (
              <tr key={s} className={s === selected ? 'selected' : undefined} data-symbol={s}>
                <td>
                  <button
                    type="button"
                    className="link"
                    aria-pressed={s === selected}
                    aria-label={`Select ${s}`}
                    onClick={() => onSelect(s)}
                    onKeyDown={(e) => onKey(e, i)}
                  >
                    {s}
                  </button>
                </td>
                <td className={`r num tick-${q?.tick ?? 'none'}`} data-testid={`last-${s}`}>
                  {fmtCents(last)}
                </td>
                <td className={`r num ${direction(change)}`}>{fmtPct(change)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="muted small">
        {symbols.some((s) => state.quotes.get(s)?.refKind === 'session')
          ? 'Change vs previous close (or, where there is none, since the first trade seen).'
          : 'Change vs previous close.'}
      </p>
    </section>
  );
}
