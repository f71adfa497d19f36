/**
 * Parsing of daily or intraday price history files (CSV exports from Yahoo, Stooq, brokers and
 * spreadsheets — one symbol, several in long format, or one column per symbol — or JSON bars as
 * Alpaca and Polygon return them) into checked rows. Parsing only: storing the rows is the
 * caller's job. Bad rows are reported with their line and skipped, so one broken line does not
 * cost the whole file.
 *
 * parseHistory reads a whole text in memory (tests, JSON bodies); streamHistory (stream.ts) reads
 * a CSV byte stream line by line in bounded memory, for files of any size.
 */
import { splitLines } from './csv.ts';
import { COLUMN_NAMES, type Column, columnKey, EXPECTED_LAYOUTS, normaliseSymbol } from './csv-layout.ts';
import {
  CsvHistoryParser,
  type CsvParseOptions,
  type HistoryError,
  type HistoryRow,
  ohlcRow,
  positivePrice,
} from './csv-parser.ts';
import { type DateOrder, parseDate } from './values.ts';

export type { LayoutName } from './csv-layout.ts';
export { EXPECTED_LAYOUTS } from './csv-layout.ts';
export type { CsvParseOptions, HistoryError, HistoryRow } from './csv-parser.ts';
export { CsvHistoryParser, HeaderRequirementError, LOOKAHEAD_LINES } from './csv-parser.ts';
export { DATE_ORDERS, type DateOrder } from './values.ts';

export interface ParsedHistory {
  /** sorted by symbol, then date; one row per symbol and date */
  rows: HistoryRow[];
  /** in line order */
  errors: HistoryError[];
  /** what was recognised: a csv layout (csv-layout.ts), json-ohlcv, json-bars, json-price, or unknown */
  layout: string;
  /** how numeric dates such as 01/02/2000 were read; null when the file had none */
  dateOrder: DateOrder | null;
}

/** Most rows parseHistory holds in memory; streamHistory has no such limit. */
export const MAX_ROWS = 1_000_000;

export function parseHistory(
  text: string,
  opts: { format?: 'csv' | 'json' } & CsvParseOptions = {},
): ParsedHistory {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const format = opts.format ?? (/^\s*[[{]/.test(body) ? 'json' : 'csv');
  const result = format === 'json' ? parseJson(body) : parseCsv(body, opts);
  return finish(result);
}

interface Candidate {
  row: HistoryRow;
  line: number;
}

interface Collected {
  candidates: Candidate[];
  errors: HistoryError[];
  layout: string;
  dateOrder: DateOrder | null;
}

function parseCsv(text: string, opts: CsvParseOptions): Collected {
  const lines = splitLines(text);
  // refuse an oversized text before doing any work on its rows
  let count = 0;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '' && ++count > MAX_ROWS + 1) return tooMany(i + 1, 'csv');
  }
  const candidates: Candidate[] = [];
  const errors: HistoryError[] = [];
  const parser = new CsvHistoryParser(opts, {
    row: (row, line) => candidates.push({ row, line }),
    error: (e) => errors.push(e),
  });
  for (const [i, l] of lines.entries()) parser.line(l, i + 1);
  parser.end();
  return {
    candidates,
    errors,
    layout: parser.layout?.name ?? 'unknown',
    dateOrder: parser.dateOrderFrom === null ? null : parser.dateOrder,
  };
}

function tooMany(line: number, layout: string): Collected {
  return {
    candidates: [],
    errors: [
      {
        line,
        message: `too many rows: at most ${MAX_ROWS.toLocaleString('en-US')} rows per import; split the file`,
      },
    ],
    layout,
    dateOrder: null,
  };
}

// ---------------------------------------------------------------------------------------------
// JSON

const JSON_KEYS: Record<string, Column> = {
  ...COLUMN_NAMES,
  t: 'date',
  o: 'open',
  h: 'high',
  l: 'low',
  c: 'close',
  v: 'volume',
  s: 'symbol',
};

function parseJson(text: string): Collected {
  const fail = (message: string): Collected => ({
    candidates: [],
    errors: [{ line: 1, message }],
    layout: 'unknown',
    dateOrder: null,
  });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return fail(`invalid JSON: ${(err as Error).message}`);
  }
  const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.bars) ? doc.bars : null;
  if (!items) return fail(`unrecognised JSON: ${EXPECTED_LAYOUTS}`);
  const wrapped = !Array.isArray(doc);
  if (items.length > MAX_ROWS) return tooMany(MAX_ROWS + 1, 'json');

  const candidates: Candidate[] = [];
  const errors: HistoryError[] = [];
  let layout: string | null = null;
  items.forEach((item: unknown, i: number) => {
    const line = i + 1;
    if (!isObject(item)) {
      errors.push({ line, message: 'expected an object' });
      return;
    }
    const values: Partial<Record<Column, unknown>> = {};
    let short = false;
    for (const [key, value] of Object.entries(item)) {
      const column = JSON_KEYS[columnKey(key)];
      if (column === undefined || column === 'ignored') continue;
      if (key.length === 1) short = true;
      if (values[column] === undefined) values[column] = value;
    }
    const price = values.open === undefined && values.high === undefined && values.low === undefined;
    if (price && values.price === undefined) values.price = values.close;
    layout ??= price ? 'json-price' : wrapped || short ? 'json-bars' : 'json-ohlcv';
    const cell = (c: Column): string | undefined => {
      const v = values[c];
      if (v === undefined || v === null) return undefined;
      if (typeof v === 'number') return c === 'date' ? epochMillis(v) : String(v);
      if (typeof v === 'string') return v;
      // true, {}, [] …: shown as written so the message says what was found
      return JSON.stringify(v);
    };
    const date = dateOfJson(cell('date'));
    if (!date.ok) {
      errors.push({ line, message: date.message });
      return;
    }
    let bar: ReturnType<typeof ohlcRow>;
    if (price) {
      const p = positivePrice('price', cell('price'));
      bar = p.ok
        ? { ok: true, value: { open: p.value, high: p.value, low: p.value, close: p.value, volume: 0 } }
        : p;
    } else if (values.volume === undefined) bar = { ok: false, message: 'missing volume' };
    else bar = ohlcRow(cell);
    if (!bar.ok) {
      errors.push({ line, message: bar.message });
      return;
    }
    const row: HistoryRow = { ...bar.value, date: date.value };
    const symbolText = cell('symbol');
    if (symbolText !== undefined) {
      const symbol = normaliseSymbol(symbolText, false);
      if (symbol === null) {
        errors.push({ line, message: `symbol '${symbolText}' is not a symbol` });
        return;
      }
      row.symbol = symbol;
    }
    candidates.push({ row, line });
  });
  return { candidates, errors, layout: layout ?? 'json', dateOrder: null };
}

function dateOfJson(text: string | undefined) {
  if (text === undefined) return { ok: false as const, message: 'missing date' };
  // JSON dates are ISO strings or numbers (rendered as ISO by epochMillis): no day/month order to guess
  return parseDate(text);
}

/** Numeric dates in JSON are epoch milliseconds (Polygon's `t`); rendered so parseDate reads them. */
function epochMillis(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? String(ms) : d.toISOString();
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// ---------------------------------------------------------------------------------------------

function finish({ candidates, errors, layout, dateOrder }: Collected): ParsedHistory {
  // the last row for a symbol and date wins: a later line is usually a correction
  const byKey = new Map<string, Candidate>();
  for (const c of candidates) {
    const key = `${c.row.symbol ?? ''}|${c.row.date.getTime()}`;
    const earlier = byKey.get(key);
    if (earlier) {
      errors.push({
        line: c.line,
        message: `duplicate date ${c.row.date.toISOString()}${c.row.symbol ? ` for ${c.row.symbol}` : ''} (also on line ${earlier.line}); this row replaces it`,
      });
      byKey.delete(key);
    }
    byKey.set(key, c);
  }
  const rows = [...byKey.values()]
    .map((c) => c.row)
    .sort((a, b) =>
      (a.symbol ?? '') === (b.symbol ?? '')
        ? a.date.getTime() - b.date.getTime()
        : (a.symbol ?? '') < (b.symbol ?? '')
          ? -1
          : 1,
    );
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors, layout, dateOrder };
}
