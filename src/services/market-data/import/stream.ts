/**
 * A CSV price file read from a byte stream (an HTTP request body, a file) in bounded memory:
 * bytes are cut into lines as they arrive, lines go through the CSV parser, and rows are handed
 * to `onBatch` in batches of at most `batchSize` (plus one line's rows); the next bytes are read
 * only after `onBatch` has finished, so a slow database slows the reader instead of filling
 * memory. What stays in memory: one chunk, one batch, the parser's date-order look-ahead (at
 * most LOOKAHEAD_LINES lines), the first `maxErrors` errors, and one summary per symbol.
 *
 * Duplicates (the same symbol and date twice) are reported when both rows fall in one batch;
 * either way the later row wins, since batches are written in file order.
 */
import { StringDecoder } from 'node:string_decoder';
import {
  CsvHistoryParser,
  type CsvParseOptions,
  type HistoryError,
  type HistoryRow,
  type LayoutName,
} from './index.ts';
import type { DateOrder } from './values.ts';

export interface StreamOptions extends CsvParseOptions {
  /** rows per onBatch call (default 5,000) */
  batchSize?: number;
  /** errors kept for the answer (default 1,000); the rest are only counted */
  maxErrors?: number;
  /** longest line accepted, in characters (default 64 KiB); a longer one is an error */
  maxLineLength?: number;
  /** called once the header is read, before any row: may throw to refuse the file */
  onHeader?: (layout: { name: LayoutName; rowSymbols: boolean; symbols: string[] | null }) => void;
}

export interface BatchRow {
  row: HistoryRow;
  line: number;
}

export interface SymbolSummary {
  symbol: string;
  rows: number;
  first: Date;
  last: Date;
}

export interface StreamSummary {
  layout: string;
  dateOrder: DateOrder | null;
  dateOrderFrom: 'given' | 'detected' | 'default' | null;
  /** rows handed to onBatch */
  rows: number;
  /** rows of other symbols left out (the `only` option) */
  skipped: number;
  /** lines read, blank ones included */
  lines: number;
  bytes: number;
  errors: HistoryError[];
  errorCount: number;
  /** per symbol; rows without a symbol of their own are under '' */
  symbols: SymbolSummary[];
}

/** What the reader holds at a batch boundary; for tests that memory stays bounded. */
export interface ReaderState {
  /** rows in the batch being handed over */
  batch: number;
  /** lines the parser holds back while the date order is undecided */
  heldLines: number;
  /** characters of an unfinished line carried to the next chunk */
  carry: number;
}

export async function streamHistory(
  source: AsyncIterable<Uint8Array | string>,
  opts: StreamOptions,
  onBatch: (rows: BatchRow[], state: ReaderState) => Promise<void>,
): Promise<StreamSummary> {
  const batchSize = opts.batchSize ?? 5000;
  const maxErrors = opts.maxErrors ?? 1000;
  const maxLine = opts.maxLineLength ?? 65_536;
  const errors: HistoryError[] = [];
  let errorCount = 0;
  let rows = 0;
  const symbols = new Map<string, SymbolSummary>();
  let batch: BatchRow[] = [];
  // symbol|time → index in batch, for duplicates within the batch
  let seen = new Map<string, number>();
  let headerSeen = false;

  const error = (e: HistoryError) => {
    errorCount++;
    if (errors.length < maxErrors) errors.push(e);
  };
  const parser = new CsvHistoryParser(opts, {
    row(row, line) {
      const key = `${row.symbol ?? ''}|${row.date.getTime()}`;
      const earlier = seen.get(key);
      if (earlier !== undefined) {
        error({
          line,
          message: `duplicate date ${row.date.toISOString()}${row.symbol ? ` for ${row.symbol}` : ''} (also on line ${batch[earlier]!.line}); this row replaces it`,
        });
        batch[earlier] = { row, line };
        return;
      }
      seen.set(key, batch.length);
      batch.push({ row, line });
      rows++;
      const name = row.symbol ?? '';
      const s = symbols.get(name);
      if (!s) symbols.set(name, { symbol: name, rows: 1, first: row.date, last: row.date });
      else {
        s.rows++;
        if (row.date < s.first) s.first = row.date;
        if (row.date > s.last) s.last = row.date;
      }
    },
    error,
  });

  let lineNo = 0;
  let carry = '';
  let overlong = false;
  let bytes = 0;
  const decoder = new StringDecoder('utf8');

  const flush = async () => {
    if (batch.length === 0) return;
    const out = batch;
    batch = [];
    seen = new Map();
    await onBatch(out, { batch: out.length, heldLines: parser.buffered(), carry: carry.length });
  };
  const feed = async (text: string) => {
    lineNo++;
    if (overlong) {
      overlong = false;
      error({ line: lineNo, message: `line longer than ${maxLine.toLocaleString('en-US')} characters` });
      return;
    }
    parser.line(text, lineNo);
    if (!headerSeen && parser.layout) {
      headerSeen = true;
      opts.onHeader?.({
        name: parser.layout.name,
        rowSymbols: parser.layout.rowSymbols,
        symbols: parser.layout.series?.map((s) => s.symbol) ?? null,
      });
    }
    if (batch.length >= batchSize) await flush();
  };

  for await (const chunk of source) {
    const text = typeof chunk === 'string' ? chunk : decoder.write(chunk);
    bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.byteLength;
    let start = 0;
    let buf = carry + text;
    carry = '';
    for (let i = 0; i < buf.length; i++) {
      const ch = buf.charCodeAt(i);
      if (ch !== 10 && ch !== 13) continue;
      // a CR at the end of a chunk may be the first half of CRLF: wait for the next chunk
      if (ch === 13 && i === buf.length - 1) break;
      const line = buf.slice(start, i);
      if (ch === 13 && buf.charCodeAt(i + 1) === 10) i++;
      start = i + 1;
      await feed(line);
    }
    buf = buf.slice(start);
    if (buf.length > maxLine) {
      // keep nothing of a line that long: its end is skipped up to the next line break
      overlong = true;
      buf = '';
    }
    carry = buf;
  }
  let tail = carry + decoder.end();
  if (tail.endsWith('\r')) tail = tail.slice(0, -1);
  if (tail !== '' || overlong) for (const line of tail.split(/\r\n|\n|\r/)) await feed(line);
  parser.end();
  carry = '';
  await flush();

  return {
    layout: parser.layout?.name ?? 'unknown',
    dateOrder: parser.dateOrderFrom === null ? null : parser.dateOrder,
    dateOrderFrom: parser.dateOrderFrom,
    rows,
    skipped: parser.skipped,
    lines: lineNo,
    bytes,
    errors: errors.sort((a, b) => a.line - b.line),
    errorCount,
    symbols: [...symbols.values()],
  };
}
