/**
 * Parsing of daily or intraday price history files (CSV exports from Yahoo, brokers and
 * spreadsheets, or JSON bars as Alpaca and Polygon return them) into checked rows. Parsing only:
 * storing the rows is the caller's job. Bad rows are reported with their line and skipped, so one
 * broken line does not cost the whole file.
 */
import { DELIMITERS, type Delimiter, splitLine, splitLines } from './csv.ts';
import { type Parsed, parseDate, parseNumber } from './values.ts';

export interface HistoryRow {
  date: Date;
  /** dollars */
  open: number;
  high: number;
  low: number;
  close: number;
  /** shares */
  volume: number;
  /** dollars, adjusted for splits and dividends, when the file has it */
  adjClose?: number;
}

export interface HistoryError {
  /** 1-based line of a CSV file; for JSON, the array index + 1 */
  line: number;
  message: string;
}

export interface ParsedHistory {
  /** sorted by date, one row per date */
  rows: HistoryRow[];
  /** in line order */
  errors: HistoryError[];
  /** what was recognised: csv-ohlcv, csv-ohlcv-adj, csv-price, json-ohlcv, json-bars, json-price, or unknown */
  layout: string;
}

export const MAX_ROWS = 1_000_000;

export const EXPECTED_LAYOUTS =
  'expected a header of Date,Open,High,Low,Close,Volume or Date,Open,High,Low,Close,Adj Close,Volume ' +
  'or Date,Price (or Date,Close), separated by commas, semicolons or tabs; ' +
  'or JSON: an array of {date,open,high,low,close,volume} or {t,o,h,l,c,v} objects, or {"bars": [...]}';

export function parseHistory(text: string, opts: { format?: 'csv' | 'json' } = {}): ParsedHistory {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const format = opts.format ?? (/^\s*[[{]/.test(body) ? 'json' : 'csv');
  const result = format === 'json' ? parseJson(body) : parseCsv(body);
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
}

// ---------------------------------------------------------------------------------------------
// CSV

type Column = 'date' | 'open' | 'high' | 'low' | 'close' | 'adjclose' | 'volume' | 'price';

const COLUMN_NAMES: Record<string, Column> = {
  date: 'date',
  datetime: 'date',
  timestamp: 'date',
  time: 'date',
  open: 'open',
  high: 'high',
  low: 'low',
  close: 'close',
  adjclose: 'adjclose',
  adjustedclose: 'adjclose',
  volume: 'volume',
  price: 'price',
};

interface CsvLayout {
  name: 'csv-ohlcv' | 'csv-ohlcv-adj' | 'csv-price';
  delimiter: Delimiter;
  width: number;
  index: Partial<Record<Column, number>>;
}

/** "Adj Close", "adj_close", " ADJ. CLOSE " → "adjclose" */
function columnKey(name: string): string {
  return name
    .trim()
    .toLowerCase()
    .replace(/[\s_.\-*]/g, '');
}

function detectLayout(header: string): CsvLayout | null {
  for (const delimiter of DELIMITERS) {
    const split = splitLine(header, delimiter);
    if (!split.ok || split.fields.length < 2) continue;
    const index: Partial<Record<Column, number>> = {};
    let known = true;
    let named = 0;
    split.fields.forEach((field, i) => {
      const key = columnKey(field);
      // a trailing delimiter on every line (some spreadsheets) makes a nameless column: ignored
      if (key === '') return;
      named++;
      const column = COLUMN_NAMES[key];
      if (column === undefined || index[column] !== undefined) known = false;
      else index[column] = i;
    });
    if (!known || index.date === undefined) continue;
    // nameless columns after the last named one are a trailing delimiter, not data
    const width = Math.max(...Object.values(index)) + 1;
    const ohlc = ['open', 'high', 'low', 'close', 'volume'].every((c) => index[c as Column] !== undefined);
    if (ohlc && index.price === undefined) {
      const name = index.adjclose === undefined ? 'csv-ohlcv' : 'csv-ohlcv-adj';
      return { name, delimiter, width, index };
    }
    // a single series: date plus exactly one of price or close
    if (named === 2 && (index.price !== undefined || index.close !== undefined)) {
      return {
        name: 'csv-price',
        delimiter,
        width,
        index: { date: index.date, price: index.price ?? index.close },
      };
    }
  }
  return null;
}

function parseCsv(text: string): Collected {
  const lines = splitLines(text);
  const headerAt = lines.findIndex((l) => l.trim() !== '');
  if (headerAt < 0)
    return {
      candidates: [],
      errors: [{ line: 1, message: `empty file: ${EXPECTED_LAYOUTS}` }],
      layout: 'unknown',
    };
  const header = lines[headerAt]!;
  const layout = detectLayout(header);
  if (!layout) {
    const shown = header.length > 120 ? `${header.slice(0, 120)}…` : header;
    return {
      candidates: [],
      errors: [{ line: headerAt + 1, message: `unrecognised header '${shown}': ${EXPECTED_LAYOUTS}` }],
      layout: 'unknown',
    };
  }

  // refuse an oversized file before doing any work on its rows
  let count = 0;
  for (let i = headerAt + 1; i < lines.length; i++) {
    if (lines[i]!.trim() !== '' && ++count > MAX_ROWS) return tooMany(i + 1, layout.name);
  }

  const candidates: Candidate[] = [];
  const errors: HistoryError[] = [];
  for (let i = headerAt + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const line = i + 1;
    const split = splitLine(raw, layout.delimiter);
    if (!split.ok) {
      errors.push({ line, message: split.message });
      continue;
    }
    const found = fieldCount(split.fields);
    if (split.fields.length < layout.width || found > layout.width) {
      const n = Math.min(split.fields.length, found);
      const hint =
        found > layout.width && layout.delimiter === ','
          ? ' (a number with thousands separators must be quoted)'
          : '';
      errors.push({ line, message: `expected ${layout.width} fields, found ${n}${hint}` });
      continue;
    }
    const cell = (c: Column) => {
      const at = layout.index[c];
      return at === undefined ? undefined : split.fields[at];
    };
    const row = buildRow(cell, layout.name === 'csv-price');
    if (row.ok) candidates.push({ row: row.value, line });
    else errors.push({ line, message: row.message });
  }
  return { candidates, errors, layout: layout.name };
}

/** Fields up to the last non-blank one: trailing delimiters with nothing after them do not count. */
function fieldCount(fields: string[]): number {
  let n = fields.length;
  while (n > 0 && fields[n - 1]!.trim() === '') n--;
  return n;
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
};

function parseJson(text: string): Collected {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return {
      candidates: [],
      errors: [{ line: 1, message: `invalid JSON: ${(err as Error).message}` }],
      layout: 'unknown',
    };
  }
  const items = Array.isArray(doc) ? doc : isObject(doc) && Array.isArray(doc.bars) ? doc.bars : null;
  if (!items) {
    return {
      candidates: [],
      errors: [{ line: 1, message: `unrecognised JSON: ${EXPECTED_LAYOUTS}` }],
      layout: 'unknown',
    };
  }
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
      if (column === undefined) continue;
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
    const row = buildRow(cell, price);
    if (row.ok) candidates.push({ row: row.value, line });
    else errors.push({ line, message: row.message });
  });
  return { candidates, errors, layout: layout ?? 'json' };
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
// Rows

function buildRow(cell: (c: Column) => string | undefined, single: boolean): Parsed<HistoryRow> {
  const dateText = cell('date');
  if (dateText === undefined) return { ok: false, message: 'missing date' };
  const date = parseDate(dateText);
  if (!date.ok) return date;

  if (single) {
    const price = positivePrice('price', cell('price'));
    if (!price.ok) return price;
    const p = price.value;
    return { ok: true, value: { date: date.value, open: p, high: p, low: p, close: p, volume: 0 } };
  }

  const prices: Partial<Record<'open' | 'high' | 'low' | 'close', number>> = {};
  for (const c of ['open', 'high', 'low', 'close'] as const) {
    const p = positivePrice(c, cell(c));
    if (!p.ok) return p;
    prices[c] = p.value;
  }
  const { open, high, low, close } = prices as Record<'open' | 'high' | 'low' | 'close', number>;
  const volumeText = cell('volume');
  if (volumeText === undefined) return { ok: false, message: 'missing volume' };
  const volume = parseNumber(volumeText);
  if (!volume.ok) return { ok: false, message: `volume: ${volume.message}` };
  if (volume.value < 0) return { ok: false, message: `volume: ${volumeText.trim()} is negative` };
  if (high < low) return { ok: false, message: `high ${high} is below low ${low}` };
  if (open < low || open > high)
    return { ok: false, message: `open ${open} is outside [low ${low}, high ${high}]` };
  if (close < low || close > high) {
    return { ok: false, message: `close ${close} is outside [low ${low}, high ${high}]` };
  }
  const row: HistoryRow = { date: date.value, open, high, low, close, volume: volume.value };
  const adjText = cell('adjclose');
  // Yahoo leaves the adjusted close empty (or "null") on some rows; the row itself is still good
  if (adjText !== undefined && adjText.trim() !== '' && adjText.trim().toLowerCase() !== 'null') {
    const adj = positivePrice('adj close', adjText);
    if (!adj.ok) return adj;
    row.adjClose = adj.value;
  }
  return { ok: true, value: row };
}

function positivePrice(name: string, text: string | undefined): Parsed<number> {
  if (text === undefined) return { ok: false, message: `missing ${name}` };
  const n = parseNumber(text);
  if (!n.ok) return { ok: false, message: `${name}: ${n.message}` };
  if (n.value < 0) return { ok: false, message: `${name}: ${text.trim()} is negative` };
  if (n.value === 0) return { ok: false, message: `${name}: a price of 0 is not a price` };
  return n;
}

// ---------------------------------------------------------------------------------------------

function finish({ candidates, errors, layout }: Collected): ParsedHistory {
  // the last row for a date wins: a later line is usually a correction
  const byTime = new Map<number, Candidate>();
  for (const c of candidates) {
    const t = c.row.date.getTime();
    const earlier = byTime.get(t);
    if (earlier) {
      errors.push({
        line: c.line,
        message: `duplicate date ${c.row.date.toISOString()} (also on line ${earlier.line}); this row replaces it`,
      });
    }
    byTime.set(t, c);
  }
  const rows = [...byTime.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c.row);
  errors.sort((a, b) => a.line - b.line);
  return { rows, errors, layout };
}
