/** The user's own watchlist, kept in this browser; null until they change the default one. */
const KEY = 'bourse.watchlist';
const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;

export function loadWatchlist(): string[] | null {
  try {
    const raw = localStorage.getItem(KEY);
    const list: unknown = raw ? JSON.parse(raw) : null;
    return Array.isArray(list)
      ? list.filter((s): s is string => typeof s === 'string' && SYMBOL.test(s))
      : null;
  } catch {
    return null;
  }
}

export function saveWatchlist(list: readonly string[]): void {
  localStorage.setItem(KEY, JSON.stringify(list));
}

/** The symbol typed to add, or why not. */
export function checkNewSymbol(
  raw: string,
  list: readonly string[],
  known: ReadonlySet<string> | null,
): { symbol: string } | { error: string } {
  const symbol = raw.trim().toUpperCase();
  if (!symbol) return { error: 'Type a symbol to add' };
  if (!SYMBOL.test(symbol)) return { error: `${symbol} is not a symbol` };
  if (list.includes(symbol)) return { error: `${symbol} is already in the watchlist` };
  if (known && !known.has(symbol)) return { error: `${symbol} is neither listed nor imported here` };
  return { symbol };
}
