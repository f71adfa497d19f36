/**
 * What a price file's header says: which column holds what, and so which layout the file has.
 *
 *   csv-ohlcv, csv-ohlcv-adj  Date,Open,High,Low,Close[,Adj Close][,Volume] (Yahoo, Stooq's download)
 *   csv-price                 Date,Price or Date,Close [,Volume]: one series
 *   csv-long-ohlcv            Symbol,Date,Open,High,Low,Close[,Volume]: several symbols, one per row
 *   csv-long-price            Symbol,Date,Price|Close[,Volume]
 *   stooq                     <TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>
 *   csv-wide                  Date,AAPL,MSFT,…: a date column, then one close-price column per symbol
 */
import { DELIMITERS, type Delimiter, splitLine } from './csv.ts';

export type Column =
  | 'date'
  | 'time'
  | 'symbol'
  | 'period'
  | 'open'
  | 'high'
  | 'low'
  | 'close'
  | 'adjclose'
  | 'volume'
  | 'price'
  | 'ignored';

export const COLUMN_NAMES: Record<string, Column> = {
  date: 'date',
  day: 'date',
  datetime: 'date',
  timestamp: 'date',
  time: 'time',
  symbol: 'symbol',
  ticker: 'symbol',
  per: 'period',
  period: 'period',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  adjclose: 'adjclose',
  adjustedclose: 'adjclose',
  volume: 'volume',
  vol: 'volume',
  price: 'price',
  // columns some exporters add that say nothing about the bar (Stooq, yfinance)
  openint: 'ignored',
  openinterest: 'ignored',
  dividends: 'ignored',
  stocksplits: 'ignored',
  capitalgains: 'ignored',
};

export type LayoutName =
  | 'csv-ohlcv'
  | 'csv-ohlcv-adj'
  | 'csv-price'
  | 'csv-long-ohlcv'
  | 'csv-long-price'
  | 'stooq'
  | 'csv-wide';

export interface CsvLayout {
  name: LayoutName;
  delimiter: Delimiter;
  /** fields a row must have: one past the last named column */
  width: number;
  index: Partial<Record<Exclude<Column, 'ignored'>, number>>;
  /** csv-wide: the symbol of each price column */
  series?: { symbol: string; at: number }[];
  /** true when each row names its symbol (long, stooq) */
  rowSymbols: boolean;
  /** one price per row (flat bars) rather than open/high/low/close */
  single: boolean;
  /** the header text, so a repeated header inside the file is recognised and skipped */
  header: string;
}

export const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;

export const EXPECTED_LAYOUTS =
  'expected a header of Date,Open,High,Low,Close[,Adj Close][,Volume], Date,Price (or Date,Close), ' +
  'Symbol,Date,Price|Close[,Volume] (several symbols), Date,SYM1,SYM2,… (one column per symbol) ' +
  "or Stooq's <TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,…, separated by commas, semicolons or tabs; " +
  'or JSON: an array of {date,open,high,low,close,volume} or {t,o,h,l,c,v} objects, or {"bars": [...]}';

/** "Adj Close", "adj_close", " ADJ. CLOSE ", "<CLOSE>" → "adjclose", "close" */
export function columnKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_.\-*<>]/g, '');
}

/** A symbol as written in a file → ours (upper case), or null when it cannot be one. */
export function normaliseSymbol(text: string, stooq: boolean): string | null {
  let s = text.trim().toUpperCase();
  // Stooq names US listings AAPL.US, German ones SAP.DE: the market suffix is not part of the symbol
  if (stooq) s = s.replace(/\.[A-Z]{2}$/, '');
  return SYMBOL.test(s) ? s : null;
}

export type HeaderResult = { ok: true; layout: CsvLayout } | { ok: false; message: string } | null;

/**
 * The layout of a header line, trying each delimiter; null when no delimiter gives a known one.
 * A header that is clearly a wide file except for a bad symbol name is an error naming it.
 */
export function detectLayout(header: string): HeaderResult {
  let wideProblem: string | null = null;
  for (const delimiter of DELIMITERS) {
    const split = splitLine(header, delimiter);
    if (!split.ok || split.fields.length < 2) continue;
    const fields = split.fields;
    const stooq = fields.some((f) => /^\s*<[^>]+>\s*$/.test(f));
    const index: CsvLayout['index'] = {};
    const unknown: number[] = [];
    let repeated = false;
    let last = -1;
    fields.forEach((field, i) => {
      const key = columnKey(field);
      // a trailing delimiter on every line (some spreadsheets) makes a nameless column: ignored
      if (key === '') return;
      const column = COLUMN_NAMES[key];
      if (column === undefined) {
        unknown.push(i);
        last = i;
        return;
      }
      last = Math.max(last, i);
      if (column === 'ignored') return;
      if (index[column] !== undefined) repeated = true;
      index[column] = i;
    });
    if (index.date === undefined && index.time !== undefined) {
      index.date = index.time;
      delete index.time;
    }
    if (repeated || index.date === undefined) continue;
    const width = last + 1;
    const base = { delimiter, width, header: header.trim() };

    if (unknown.length > 0) {
      // wide: the date first, then nothing but symbols
      const others = Object.keys(index).filter((c) => c !== 'date');
      if (others.length > 0 || index.date !== 0) continue;
      const series: { symbol: string; at: number }[] = [];
      const bad: string[] = [];
      for (const at of unknown) {
        const symbol = normaliseSymbol(fields[at]!, false);
        if (symbol === null) bad.push(fields[at]!.trim());
        else series.push({ symbol, at });
      }
      if (bad.length > 0) {
        wideProblem ??= `column ${bad.map((b) => `'${b}'`).join(', ')} is neither a known column nor a symbol (letters, digits, '_' or '-', starting with a letter)`;
        continue;
      }
      const dup = series.find((s, i) => series.findIndex((o) => o.symbol === s.symbol) !== i);
      if (dup) {
        wideProblem ??= `symbol ${dup.symbol} has two columns`;
        continue;
      }
      return {
        ok: true,
        layout: { ...base, name: 'csv-wide', index: { date: 0 }, series, rowSymbols: false, single: true },
      };
    }

    const rowSymbols = index.symbol !== undefined;
    const ohlc = (['open', 'high', 'low', 'close'] as const).every((c) => index[c] !== undefined);
    if (ohlc && index.price === undefined) {
      const name: LayoutName = stooq
        ? 'stooq'
        : rowSymbols
          ? 'csv-long-ohlcv'
          : index.adjclose === undefined
            ? 'csv-ohlcv'
            : 'csv-ohlcv-adj';
      return { ok: true, layout: { ...base, name, index, rowSymbols, single: false } };
    }
    // a single series: date plus exactly one of price or close, and optionally volume
    const priceColumns = (['price', 'close'] as const).filter((c) => index[c] !== undefined);
    const extra = Object.keys(index).filter(
      (c) => !['date', 'time', 'symbol', 'period', 'volume', 'price', 'close'].includes(c),
    );
    if (priceColumns.length === 1 && extra.length === 0) {
      const name: LayoutName = rowSymbols ? 'csv-long-price' : 'csv-price';
      const { price: _p, close: _c, ...rest } = index;
      return {
        ok: true,
        layout: {
          ...base,
          name,
          index: { ...rest, price: index[priceColumns[0]!]! },
          rowSymbols,
          single: true,
        },
      };
    }
  }
  return wideProblem === null ? null : { ok: false, message: wideProblem };
}
