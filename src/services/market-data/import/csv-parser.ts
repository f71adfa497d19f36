/**
 * A price file read one line at a time, so that a file of any size goes through in bounded
 * memory: the first non-blank line is the header (csv-layout.ts), every later line gives zero or
 * more rows (a wide file's line gives one per symbol) or an error naming the line.
 *
 * Numeric dates such as 01/02/2000 are read month first unless the caller says `dmy`; with
 * `auto` (the default) the parser holds back up to LOOKAHEAD_LINES lines until one of them
 * proves the order (a first number above 12 means day first, a second one month first) and
 * falls back to month first when none does. That hold-back is the only state that grows with
 * the input, and it is capped.
 */
import { type SplitResult, splitLine } from './csv.ts';
import { type CsvLayout, detectLayout, EXPECTED_LAYOUTS, normaliseSymbol } from './csv-layout.ts';
import { type DateOrder, dateOrderOf, isMissing, type Parsed, parseDate, parseNumber } from './values.ts';

export interface HistoryRow {
  /** from the file (long, wide and Stooq layouts); otherwise the caller's */
  symbol?: string;
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

export interface CsvParseOptions {
  /** how to read 01/02/2000: `auto` (default) detects it from the file, else month first */
  dateOrder?: DateOrder | 'auto';
  /** only this symbol's rows (or column) of a file that names its symbols; the others are skipped */
  only?: string;
  /** the timeframe the rows are imported as; a Stooq period column that disagrees is an error */
  timeframe?: string;
}

export interface RowSink {
  row(row: HistoryRow, line: number): void;
  error(error: HistoryError): void;
}

/** The header asks for something the request does not give (a symbol), or names no such column. */
export class HeaderRequirementError extends Error {
  constructor(
    readonly field: 'symbol',
    message: string,
  ) {
    super(message);
    this.name = 'HeaderRequirementError';
  }
}

export const LOOKAHEAD_LINES = 1000;

// Stooq's <PER>: D(aily), W(eekly), M(onthly) or the bar's minutes
const PERIODS: Record<string, string> = {
  d: '1d',
  '1440': '1d',
  '60': '1h',
  '15': '15m',
  '5': '5m',
  '1': '1m',
};

export class CsvHistoryParser {
  layout: CsvLayout | null = null;
  /** the order numeric dates are read in; null until decided (or when no numeric dates were seen) */
  dateOrder: DateOrder | null;
  /** how dateOrder was decided */
  dateOrderFrom: 'given' | 'detected' | 'default' | null;
  /** rows of other symbols left out because of `only` */
  skipped = 0;
  private held: { split: SplitResult; line: number }[] = [];
  private failed = false;

  constructor(
    private readonly opts: CsvParseOptions,
    private readonly sink: RowSink,
  ) {
    const given = opts.dateOrder && opts.dateOrder !== 'auto' ? opts.dateOrder : null;
    this.dateOrder = given;
    this.dateOrderFrom = given ? 'given' : null;
  }

  /** lines held back while the date order is undecided (at most LOOKAHEAD_LINES) */
  buffered(): number {
    return this.held.length;
  }

  line(raw: string, line: number): void {
    if (this.failed) return;
    const text = line === 1 && raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
    if (text.trim() === '') return;
    if (this.layout === null) {
      this.readHeader(text, line);
      return;
    }
    if (text.trim() === this.layout.header) return; // a header repeated by concatenated files
    const split = splitLine(text, this.layout.delimiter);
    if (this.dateOrder === null) {
      const proof = this.proofOf(split);
      if (proof === 'none') {
        // nothing in this line needs an order: it is not held
        if (this.held.length === 0) {
          this.parse(split, line);
          return;
        }
      } else if (proof !== 'undecided') {
        this.decide(proof, 'detected');
      }
      if (this.dateOrder === null) {
        this.held.push({ split, line });
        if (this.held.length >= LOOKAHEAD_LINES) this.decide('mdy', 'default');
        return;
      }
    }
    this.parse(split, line);
  }

  /** after the last line */
  end(): void {
    if (this.failed) return;
    if (this.layout === null) {
      this.sink.error({ line: 1, message: `empty file: ${EXPECTED_LAYOUTS}` });
      return;
    }
    if (this.held.length > 0) this.decide('mdy', 'default');
  }

  private decide(order: DateOrder, from: 'detected' | 'default'): void {
    this.dateOrder = order;
    this.dateOrderFrom = from;
    const held = this.held;
    this.held = [];
    for (const h of held) this.parse(h.split, h.line);
  }

  private readHeader(text: string, line: number): void {
    const found = detectLayout(text);
    if (found === null || !found.ok) {
      const shown = text.length > 120 ? `${text.slice(0, 120)}…` : text;
      const why = found === null ? EXPECTED_LAYOUTS : found.message;
      this.sink.error({ line, message: `unrecognised header '${shown}': ${why}` });
      this.failed = true;
      return;
    }
    const layout = found.layout;
    const only = this.opts.only;
    if (layout.series && only !== undefined) {
      const series = layout.series.filter((s) => s.symbol === only);
      if (series.length === 0) {
        throw new HeaderRequirementError(
          'symbol',
          `the file has no column ${only} (its symbols: ${layout.series.map((s) => s.symbol).join(', ')})`,
        );
      }
      layout.series = series;
    }
    this.layout = layout;
  }

  /** Whether this line's date proves an order, needs one, or needs none. */
  private proofOf(split: SplitResult): DateOrder | 'undecided' | 'none' {
    const layout = this.layout!;
    if (!split.ok) return 'none';
    const cell = split.fields[layout.index.date!];
    if (cell === undefined) return 'none';
    const proof = dateOrderOf(cell);
    if (proof !== null) return proof;
    return /^\s*\d{1,2}[/.-]\d{1,2}[/.-]\d{4}/.test(cell) ? 'undecided' : 'none';
  }

  private parse(split: SplitResult, line: number): void {
    const layout = this.layout!;
    if (!split.ok) {
      this.sink.error({ line, message: split.message });
      return;
    }
    const fields = split.fields;
    const found = fieldCount(fields);
    if (fields.length < layout.width || found > layout.width) {
      const n = Math.min(fields.length, found);
      const hint =
        found > layout.width && layout.delimiter === ','
          ? ' (a number with thousands separators must be quoted)'
          : '';
      this.sink.error({ line, message: `expected ${layout.width} fields, found ${n}${hint}` });
      return;
    }
    const index = layout.index;

    let symbol: string | undefined;
    if (layout.rowSymbols) {
      const text = fields[index.symbol!]!;
      const s = normaliseSymbol(text, layout.name === 'stooq');
      if (s === null) {
        this.sink.error({
          line,
          message:
            text.trim() === ''
              ? 'missing symbol'
              : `symbol '${text.trim()}' is not a symbol (letters, digits, '_' or '-', starting with a letter)`,
        });
        return;
      }
      if (this.opts.only !== undefined && s !== this.opts.only) {
        this.skipped++;
        return;
      }
      symbol = s;
    }

    const period = index.period === undefined ? undefined : fields[index.period];
    if (period !== undefined && this.opts.timeframe !== undefined) {
      const tf = PERIODS[period.trim().toLowerCase()];
      if (tf !== this.opts.timeframe) {
        this.sink.error({
          line,
          message: `period '${period.trim()}' does not match timeframe ${this.opts.timeframe}`,
        });
        return;
      }
    }

    const date = this.dateOf(fields[index.date!]!, index.time === undefined ? undefined : fields[index.time]);
    if (!date.ok) {
      this.sink.error({ line, message: date.message });
      return;
    }

    if (layout.series) {
      const problems: string[] = [];
      for (const s of layout.series) {
        const text = fields[s.at] ?? '';
        if (isMissing(text)) continue; // a symbol not yet listed on that day, a holiday: no bar
        const price = positivePrice(s.symbol, text);
        if (!price.ok) problems.push(price.message);
        else this.sink.row(flat(s.symbol, date.value, price.value, 0), line);
      }
      if (problems.length > 0) this.sink.error({ line, message: problems.join('; ') });
      return;
    }

    const row = layout.single ? singleRow(fields, index) : ohlcRow((c) => cellOf(fields, index, c));
    if (!row.ok) {
      this.sink.error({ line, message: row.message });
      return;
    }
    const value = row.value as HistoryRow;
    value.date = date.value;
    if (symbol !== undefined) value.symbol = symbol;
    this.sink.row(value, line);
  }

  private dateOf(dateText: string, timeText: string | undefined): Parsed<Date> {
    const order = this.dateOrder ?? 'mdy';
    const date = parseDate(dateText, order);
    if (!date.ok || timeText === undefined || timeText.trim() === '') return date;
    const t = timeText.trim();
    // Stooq writes 153000; others 15:30 or 15:30:00
    const m = /^(\d{2})(\d{2})(\d{2})$/.exec(t) ?? /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
    const h = Number(m?.[1]);
    const min = Number(m?.[2]);
    const sec = Number(m?.[3] ?? 0);
    if (!m || h > 23 || min > 59 || sec > 59) return { ok: false, message: `unparseable time '${t}'` };
    return { ok: true, value: new Date(date.value.getTime() + ((h * 60 + min) * 60 + sec) * 1000) };
  }
}

/** Fields up to the last non-blank one: trailing delimiters with nothing after them do not count. */
function fieldCount(fields: string[]): number {
  let n = fields.length;
  while (n > 0 && fields[n - 1]!.trim() === '') n--;
  return n;
}

type Cell = (c: keyof CsvLayout['index']) => string | undefined;
type Bar = Omit<HistoryRow, 'date' | 'symbol'>;

function flat(symbol: string, date: Date, p: number, volume: number): HistoryRow {
  return { symbol, date, open: p, high: p, low: p, close: p, volume };
}

function volumeOf(text: string | undefined): Parsed<number> {
  if (text === undefined) return { ok: true, value: 0 };
  const volume = parseNumber(text);
  if (!volume.ok) return { ok: false, message: `volume: ${volume.message}` };
  if (volume.value < 0) return { ok: false, message: `volume: ${text.trim()} is negative` };
  return volume;
}

function cellOf(
  fields: string[],
  index: CsvLayout['index'],
  c: keyof CsvLayout['index'],
): string | undefined {
  const at = index[c];
  return at === undefined ? undefined : fields[at];
}

function singleRow(fields: string[], index: CsvLayout['index']): Parsed<Bar> {
  const price = positivePrice('price', fields[index.price!]);
  if (!price.ok) return price;
  const volume = volumeOf(index.volume === undefined ? undefined : fields[index.volume]);
  if (!volume.ok) return volume;
  const p = price.value;
  return { ok: true, value: { open: p, high: p, low: p, close: p, volume: volume.value } };
}

/** A bar from its cells; shared with the JSON reader. */
export function ohlcRow(cell: Cell): Parsed<Bar> {
  const prices: Partial<Record<'open' | 'high' | 'low' | 'close', number>> = {};
  for (const c of ['open', 'high', 'low', 'close'] as const) {
    const p = positivePrice(c, cell(c));
    if (!p.ok) return p;
    prices[c] = p.value;
  }
  const { open, high, low, close } = prices as Record<'open' | 'high' | 'low' | 'close', number>;
  const volume = volumeOf(cell('volume'));
  if (!volume.ok) return volume;
  if (high < low) return { ok: false, message: `high ${high} is below low ${low}` };
  if (open < low || open > high)
    return { ok: false, message: `open ${open} is outside [low ${low}, high ${high}]` };
  if (close < low || close > high) {
    return { ok: false, message: `close ${close} is outside [low ${low}, high ${high}]` };
  }
  const row: Bar = { open, high, low, close, volume: volume.value };
  const adjText = cell('adjclose');
  // Yahoo leaves the adjusted close empty (or "null") on some rows; the row itself is still good
  if (adjText !== undefined && !isMissing(adjText)) {
    const adj = positivePrice('adj close', adjText);
    if (!adj.ok) return adj;
    row.adjClose = adj.value;
  }
  return { ok: true, value: row };
}

export function positivePrice(name: string, text: string | undefined): Parsed<number> {
  if (text === undefined) return { ok: false, message: `missing ${name}` };
  const n = parseNumber(text);
  if (!n.ok) return { ok: false, message: `${name}: ${n.message}` };
  if (n.value < 0) return { ok: false, message: `${name}: ${text.trim()} is negative` };
  if (n.value === 0) return { ok: false, message: `${name}: a price of 0 is not a price` };
  return n;
}
