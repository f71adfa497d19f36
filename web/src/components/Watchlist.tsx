import { type FormEvent, type KeyboardEvent, useRef, useState } from 'react';
import { useFrame } from '../lib/frame.ts';
import { direction, fmtCents, fmtPct } from '../lib/money.ts';
import { checkNewSymbol } from '../lib/watchlist.ts';
import { state, store } from '../market.ts';

/**
 * Symbols with live last price and change; arrow keys move, Enter/click selects. With onAdd and
 * onRemove it is editable: a symbol typed below is added (if listed or imported), × removes one.
 */
export function Watchlist({
  symbols,
  selected,
  onSelect,
  onAdd,
  onRemove,
  known = null,
}: {
  symbols: string[];
  selected: string;
  onSelect: (s: string) => void;
  onAdd?: (s: string) => void;
  onRemove?: (s: string) => void;
  /** the symbols that may be added; null: not known yet (anything well-formed) */
  known?: ReadonlySet<string> | null;
}) {
  useFrame(store);
  const list = useRef<HTMLTableSectionElement>(null);
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string | null>(null);
  function add(e: FormEvent) {
    e.preventDefault();
    const r = checkNewSymbol(adding, symbols, known);
    if ('error' in r) return setError(r.error);
    setError(null);
    setAdding('');
    onAdd?.(r.symbol);
  }
  function onKey(e: KeyboardEvent, i: number) {
    const next = e.key === 'ArrowDown' ? i + 1 : e.key === 'ArrowUp' ? i - 1 : null;
    if (next === null) return;
    e.preventDefault();
    const rows = list.current?.querySelectorAll<HTMLButtonElement>('button[aria-pressed]');
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
            {onRemove && (
              <th scope="col">
                <span className="sr-only">Remove</span>
              </th>
            )}
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
                {onRemove && (
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-label={`Remove ${s} from the watchlist`}
                      onClick={() => onRemove(s)}
                    >
                      ×
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      {onAdd && (
        <form className="watch-add" onSubmit={add} aria-label="Add to the watchlist">
          <label>
            <span className="sr-only">Symbol to add</span>
            <input
              value={adding}
              onChange={(e) => setAdding(e.target.value)}
              placeholder="Add symbol"
              autoComplete="off"
              spellCheck={false}
              aria-invalid={error !== null}
            />
          </label>
          <button type="submit">Add</button>
          {error && (
            <p className="field-error" role="alert">
              {error}
            </p>
          )}
        </form>
      )}
      <p className="muted small">
        {symbols.some((s) => state.quotes.get(s)?.refKind === 'session')
          ? 'Change vs previous close (or, where there is none, since the first trade seen).'
          : 'Change vs previous close.'}
      </p>
    </section>
  );
}
