/** A symbol the terminal can show: listed on our exchange, quoted by a feed, or imported history only. */
export interface SymbolEntry {
  symbol: string;
  /** 'exchange', a feed id, or 'import' */
  source: string;
  tradable: boolean;
}

/** Matches for a search, best first: exact, then prefix, then anywhere in the symbol; at most `max`. */
export function searchSymbols(list: readonly SymbolEntry[], query: string, max = 50): SymbolEntry[] {
  const q = query.trim().toUpperCase();
  if (!q) return list.slice(0, max);
  const rank = (s: string) => (s === q ? 0 : s.startsWith(q) ? 1 : s.includes(q) ? 2 : 3);
  return list
    .map((e) => ({ e, r: rank(e.symbol) }))
    .filter((x) => x.r < 3)
    .sort((a, b) => a.r - b.r || (a.e.symbol < b.e.symbol ? -1 : a.e.symbol > b.e.symbol ? 1 : 0))
    .slice(0, max)
    .map((x) => x.e);
}
