/**
 * Which listed symbols a piece of news mentions. Three signals, from strongest to weakest:
 * cashtags ($AAPL, any case), tickers written in capitals as a word of their own (AAPL, BRK.B),
 * and company names (Apple). Tickers that are also everyday words or single letters (A, IT, ON,
 * NOW) count only as cashtags: "IT spending is ON track" mentions neither.
 */

/** Tickers that are common words or abbreviations in capitalised headlines. */
const AMBIGUOUS = new Set([
  'A',
  'AI',
  'ALL',
  'AM',
  'AN',
  'AND',
  'ANY',
  'ARE',
  'AS',
  'AT',
  'BE',
  'BEST',
  'BIG',
  'BY',
  'CAN',
  'CAR',
  'CAT',
  'CEO',
  'CFO',
  'DO',
  'EPS',
  'ETF',
  'EU',
  'FAST',
  'FED',
  'FOR',
  'FUN',
  'GDP',
  'GO',
  'GOOD',
  'HAS',
  'HE',
  'HOLD',
  'HOME',
  'I',
  'IF',
  'IN',
  'IPO',
  'IS',
  'IT',
  'KEY',
  'LIFE',
  'LOVE',
  'LOW',
  'MAIN',
  'ME',
  'MY',
  'NEW',
  'NEXT',
  'NO',
  'NOW',
  'OF',
  'OK',
  'ON',
  'ONE',
  'OPEN',
  'OR',
  'OUT',
  'PAY',
  'PM',
  'POST',
  'REAL',
  'RUN',
  'SEC',
  'SEE',
  'SELL',
  'SHE',
  'SO',
  'THE',
  'TO',
  'TRUE',
  'TV',
  'TWO',
  'UK',
  'UP',
  'US',
  'USA',
  'WE',
  'WELL',
  'YOU',
]);

// a capitalised word, optionally with a class suffix (BRK.B, BF-B); not part of a longer word,
// not a domain or file name (IBM.com), not one side of AT&T
const TICKER = /(?<![\p{L}\p{N}$&.])([A-Z][A-Z0-9]*(?:[.-][A-Z0-9]+)?)(?![\p{L}\p{N}&]|\.[\p{L}\p{N}])/gu;
const CASHTAG = /(?<![\p{L}\p{N}$])\$([A-Za-z][A-Za-z0-9]*(?:[.-][A-Za-z0-9]+)?)(?![\p{L}\p{N}])/gu;

export function tagSymbols(
  text: string,
  symbols: readonly string[],
  names?: Record<string, string>,
): string[] {
  const known = new Map<string, string>();
  for (const s of symbols) known.set(s.toUpperCase(), s);
  const found = new Set<string>();

  for (const m of text.matchAll(CASHTAG)) {
    const s = known.get(m[1]!.toUpperCase());
    if (s !== undefined) found.add(s);
  }
  for (const m of text.matchAll(TICKER)) {
    const word = m[1]!;
    if (word.length < 2 || AMBIGUOUS.has(word)) continue;
    const s = known.get(word);
    if (s !== undefined) found.add(s);
  }
  if (names) {
    const matcher = nameMatcher(names);
    if (matcher) {
      for (const m of text.matchAll(matcher.regex)) {
        for (const symbol of matcher.symbolsOf.get(m[0]) ?? []) {
          const s = known.get(symbol.toUpperCase());
          if (s !== undefined) found.add(s);
        }
      }
    }
  }
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface NameMatcher {
  regex: RegExp;
  /** spelling as it may appear (as given, or in capitals) → symbols with that name */
  symbolsOf: Map<string, string[]>;
}

const matchers = new WeakMap<Record<string, string>, NameMatcher | null>();

/** One regex for all names, longest first so "Apple Hospitality" is not read as "Apple". */
function nameMatcher(names: Record<string, string>): NameMatcher | null {
  const cached = matchers.get(names);
  if (cached !== undefined) return cached;
  const symbolsOf = new Map<string, string[]>();
  for (const [symbol, rawName] of Object.entries(names)) {
    const name = rawName.trim().replace(/\s+/g, ' ');
    if (name.length < 2) continue;
    for (const spelling of new Set([name, name.toUpperCase()])) {
      symbolsOf.set(spelling, [...(symbolsOf.get(spelling) ?? []), symbol]);
    }
  }
  const spellings = [...symbolsOf.keys()].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  const matcher =
    spellings.length === 0
      ? null
      : {
          regex: new RegExp(
            `(?<![\\p{L}\\p{N}])(?:${spellings.map(escapeRegExp).join('|')})(?![\\p{L}\\p{N}])`,
            'gu',
          ),
          symbolsOf,
        };
  matchers.set(names, matcher);
  return matcher;
}

function escapeRegExp(s: string): string {
  // '-' needs no escape outside a class, and the u flag forbids escaping it
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
