import { type KeyboardEvent, useEffect, useId, useRef, useState } from 'react';
import { type SymbolEntry, searchSymbols } from '../lib/symbols.ts';

const SOURCE_LABEL: Record<string, string> = { exchange: 'listed', import: 'imported history' };

/**
 * The "/" symbol search: a combobox over every listed, quoted or imported symbol. ↑↓ move, Enter or a
 * click picks, Escape closes. Its input is a field, so the terminal's B/S shortcuts stay quiet in it.
 */
export function SymbolSearch({
  symbols,
  onPick,
  onClose,
}: {
  symbols: readonly SymbolEntry[] | null;
  onPick: (symbol: string) => void;
  onClose: () => void;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [query, setQuery] = useState('');
  const [active, setActive] = useState(0);
  const matches = searchSymbols(symbols ?? [], query);
  useEffect(() => input.current?.focus(), []);

  function onKey(e: KeyboardEvent) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const d = e.key === 'ArrowDown' ? 1 : -1;
      if (matches.length > 0) setActive((a) => (a + d + matches.length) % matches.length);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      const m = matches[active];
      if (m) onPick(m.symbol);
    } else if (e.key === 'Escape') {
      e.preventDefault();
      onClose();
    }
  }

  const optionId = (i: number) => `${id}-opt-${i}`;
  return (
    <div className="search-backdrop">
      <div className="panel symbol-search" role="dialog" aria-modal="true" aria-label="Symbol search">
        <button type="button" className="link close" aria-label="Close symbol search" onClick={onClose}>
          ×
        </button>
        <input
          ref={input}
          role="combobox"
          aria-label="Search symbols"
          aria-expanded="true"
          aria-controls={`${id}-list`}
          aria-activedescendant={matches[active] ? optionId(active) : undefined}
          autoComplete="off"
          spellCheck={false}
          placeholder="Symbol…"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setActive(0);
          }}
          onKeyDown={onKey}
        />
        {symbols === null ? (
          <p className="muted">Loading symbols…</p>
        ) : matches.length === 0 ? (
          <p className="muted">No symbol matches “{query.trim()}”.</p>
        ) : (
          <div id={`${id}-list`} role="listbox" aria-label="Symbols" className="options">
            {matches.map((m, i) => (
              <button
                type="button"
                key={m.symbol}
                id={optionId(i)}
                role="option"
                tabIndex={-1}
                aria-selected={i === active}
                data-symbol={m.symbol}
                onMouseEnter={() => setActive(i)}
                onMouseDown={(e) => e.preventDefault()}
                onClick={() => onPick(m.symbol)}
              >
                <span className="sym">{m.symbol}</span>
                <span className="muted small">
                  {SOURCE_LABEL[m.source] ?? m.source}
                  {m.tradable ? '' : ' · not tradable here'}
                </span>
              </button>
            ))}
          </div>
        )}
      </div>
    </div>
  );
}
