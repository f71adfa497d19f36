/**
 * `bourse import FILE [--symbol X] [--timeframe 1d] [--format csv|json] [--date-format auto|mdy|dmy]
 * [--dry-run]`: streams a price history file to the market-data admin endpoint
 * (POST /v1/market-data/import), which parses and stores it as it arrives, and prints what
 * happened: how many rows went in, per symbol, and every row that did not, by line. The file is
 * never read whole: its bytes go out as they are read, with a progress bar on stderr.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { parseArgs } from 'node:util';
import { TIMEFRAMES, type Timeframe } from '../services/market-data/model.ts';

export const IMPORT_USAGE = `usage: bourse import FILE [--symbol SYMBOL] [--timeframe ${TIMEFRAMES.join('|')}] [--format csv|json]
                    [--date-format auto|mdy|dmy] [--dry-run]

  FILE           a price file, CSV or JSON, of any size (it is streamed):
                   Date,Open,High,Low,Close[,Adj Close][,Volume]   (Yahoo, Stooq)
                   Date,Price  or  Date,Close[,Volume]             (one series)
                   Symbol,Date,Price|Close[,Volume]                (several symbols, one per row)
                   Date,AAPL,MSFT,...                              (one column of closes per symbol)
                   <TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,...         (Stooq bulk files)
                   JSON bars: [{t,o,h,l,c,v}, ...] or {"bars": [...]}
                 dates as 2000-01-03, 01/03/2000, Jan 3 2000, 3-Jan-2000, 20000103, or epoch
                 seconds / milliseconds
  --symbol       the instrument of a one-series file, e.g. ACME; for a file that names its
                 symbols, import only this one
  --timeframe    the bar size of the rows (default 1d)
  --format       csv or json (default: from the file name, .json is JSON, anything else CSV)
  --date-format  how 01/02/2000 is read: auto (default: day first only if the file has a date
                 such as 13/01/2000 that can only be day first, else month first as in the US),
                 mdy (January 2) or dmy (1 February)
  --dry-run      parse the whole file and report what would be imported; write nothing`;

// the market-data API's symbol rule (SYMBOL_PATTERN in src/services/market-data/admin.ts)
const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;
const DATE_FORMATS = ['auto', 'mdy', 'dmy'] as const;

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string) {
    super(`${message}\n\n${IMPORT_USAGE}`);
  }
}

export interface ImportArgs {
  file: string;
  symbol?: string;
  timeframe: Timeframe;
  format?: 'csv' | 'json';
  dateFormat?: (typeof DATE_FORMATS)[number];
  dryRun?: boolean;
}

/** argv after the command word: `['prices.csv', '--symbol', 'ACME']`. Throws UsageError. */
export function parseImportArgs(argv: readonly string[]): ImportArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length === 0) throw new UsageError('missing FILE');
  if (positionals.length > 1) throw new UsageError(`one FILE at a time (got ${positionals.length})`);
  const file = positionals[0]!;
  const timeframe = (values.timeframe ?? '1d') as Timeframe;
  if (!TIMEFRAMES.includes(timeframe)) {
    throw new UsageError(`bad --timeframe '${values.timeframe}': one of ${TIMEFRAMES.join(', ')}`);
  }
  const args: ImportArgs = { file, timeframe };
  if (values.symbol !== undefined) {
    const symbol = values.symbol.trim().toUpperCase();
    if (symbol === '') throw new UsageError('empty --symbol');
    if (!SYMBOL.test(symbol)) {
      throw new UsageError(
        `bad --symbol '${values.symbol}': letters, digits, '_' or '-', starting with a letter`,
      );
    }
    args.symbol = symbol;
  }
  if (values.format !== undefined) {
    if (values.format !== 'csv' && values.format !== 'json') {
      throw new UsageError(`bad --format '${values.format}': csv or json`);
    }
    args.format = values.format;
  }
  if (values['date-format'] !== undefined) {
    const f = values['date-format'] as (typeof DATE_FORMATS)[number];
    if (!DATE_FORMATS.includes(f)) throw new UsageError(`bad --date-format '${f}': auto, mdy or dmy`);
    args.dateFormat = f;
  }
  if (values['dry-run']) args.dryRun = true;
  return args;
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      symbol: { type: 'string', short: 's' },
      timeframe: { type: 'string', short: 't' },
      format: { type: 'string' },
      'date-format': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
}

export interface ImportResponse {
  symbol?: string | null;
  layout?: string;
  date_format?: 'mdy' | 'dmy' | null;
  date_format_from?: string | null;
  dry_run?: boolean;
  rows?: number;
  imported: number;
  skipped?: number;
  symbols?: { symbol: string; rows: number; first: string; last: string }[];
  errors: { line: number; message: string }[];
  error_count?: number;
}

/** The query string of POST /v1/market-data/import for these arguments. */
export function importQuery(args: ImportArgs): string {
  const q = new URLSearchParams({ timeframe: args.timeframe });
  if (args.symbol) q.set('symbol', args.symbol);
  if (args.dateFormat) q.set('date_format', args.dateFormat);
  if (args.dryRun) q.set('dry_run', 'true');
  return q.toString();
}

export type PostImport = (
  query: string,
  body: Readable,
  contentType: 'text/csv' | 'application/json',
) => Promise<ImportResponse>;

export interface ImportIo {
  /** the file as a byte stream, and its size */
  open?: (path: string) => Promise<{ stream: Readable; size: number }>;
  /** one line of the summary (default: console.log) */
  print?: (line: string) => void;
  /** progress output (default: process.stderr) */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  now?: () => number;
}

async function openFile(path: string): Promise<{ stream: Readable; size: number }> {
  const { size } = await stat(path);
  return { stream: createReadStream(path, { highWaterMark: 256 * 1024 }), size };
}

/**
 * Streams the file to `post` and prints the summary. Resolves to the result; the caller turns it
 * into an exit code (importExitCode). A missing file rejects before anything is posted.
 */
export async function importFile(
  args: ImportArgs,
  post: PostImport,
  io: ImportIo = {},
): Promise<ImportResponse> {
  const print = io.print ?? ((line: string) => console.log(line));
  const { stream, size } = await (io.open ?? openFile)(args.file);
  const format = args.format ?? (extname(args.file).toLowerCase() === '.json' ? 'json' : 'csv');
  const progress = progressReporter(size, io.progress ?? process.stderr, io.now ?? Date.now);
  const counted = stream.pipe(
    new Transform({
      transform(chunk: Buffer, _enc, done) {
        progress.add(chunk.length);
        done(null, chunk);
      },
    }),
  );
  stream.on('error', (err) => counted.destroy(err));
  let result: ImportResponse;
  try {
    result = await post(importQuery(args), counted, format === 'json' ? 'application/json' : 'text/csv');
  } finally {
    progress.done();
  }
  for (const line of formatSummary(args, result)) print(line);
  return result;
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * A progress bar on a terminal (redrawn in place, at most 10 times a second); elsewhere (a log,
 * a pipe) a plain line every 10 % so the output stays readable.
 */
export function progressReporter(
  total: number,
  out: { write(text: string): unknown; isTTY?: boolean },
  now: () => number,
) {
  const start = now();
  let sent = 0;
  let lastDraw = 0;
  let lastDecile = 0;
  const tty = out.isTTY === true;
  const line = () => {
    const pct = total > 0 ? Math.min(100, Math.floor((sent / total) * 100)) : 100;
    const secs = Math.max(0.001, (now() - start) / 1000);
    return { pct, text: `${mb(sent)} of ${mb(total)} (${pct}%), ${mb(sent / secs)}/s` };
  };
  return {
    add(n: number) {
      sent += n;
      const { pct, text } = line();
      if (tty) {
        if (now() - lastDraw < 100 && sent < total) return;
        lastDraw = now();
        const width = 30;
        const filled = Math.round((pct / 100) * width);
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      } else if (pct >= lastDecile + 10) {
        lastDecile = pct - (pct % 10);
        out.write(`sent ${text}\n`);
      }
    },
    done() {
      if (tty) out.write(`\r\x1b[K`);
    },
  };
}

const count = (n: number, one: string, many = `${one}s`) =>
  `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

/** "imported 250 rows of ACME (1d) from prices.csv", a line per symbol, then "line L: message" for each bad row. */
export function formatSummary(args: ImportArgs, result: ImportResponse): string[] {
  const symbols = result.symbols ?? [];
  const what =
    symbols.length > 1
      ? `${count(symbols.length, 'symbol')}`
      : (result.symbol ?? symbols[0]?.symbol ?? args.symbol ?? 'no symbol');
  const lines = result.dry_run
    ? [
        `dry run: would import ${count(result.rows ?? 0, 'row')} of ${what} (${args.timeframe}) from ${args.file}; nothing written`,
      ]
    : [`imported ${count(result.imported, 'row')} of ${what} (${args.timeframe}) from ${args.file}`];
  if (result.layout) {
    const dates = result.date_format
      ? `, dates read ${result.date_format === 'mdy' ? 'month first (MM/DD/YYYY)' : 'day first (DD/MM/YYYY)'}${result.date_format_from ? ` (${result.date_format_from})` : ''}`
      : '';
    lines.push(`layout ${result.layout}${dates}`);
  }
  if (symbols.length > 1) {
    for (const s of symbols.slice(0, 50)) {
      lines.push(
        `  ${s.symbol.padEnd(8)} ${count(s.rows, 'row').padStart(14)}  ${s.first.slice(0, 10)} to ${s.last.slice(0, 10)}`,
      );
    }
    if (symbols.length > 50) lines.push(`  … and ${count(symbols.length - 50, 'more symbol')}`);
  }
  if (result.skipped) lines.push(`${count(result.skipped, 'row')} of other symbols skipped`);
  const total = result.error_count ?? result.errors.length;
  if (total > 0) {
    lines.push(`${count(total, 'problem')}:`);
    for (const e of result.errors) lines.push(`line ${e.line}: ${e.message}`);
    if (total > result.errors.length)
      lines.push(`… and ${count(total - result.errors.length, 'more problem')} not listed`);
  }
  return lines;
}

/** 0 when every row went in (or would, in a dry run); 1 when some rows were rejected or there were none. */
export function importExitCode(result: ImportResponse): number {
  const total = result.error_count ?? result.errors.length;
  const rows = result.dry_run ? (result.rows ?? 0) : result.imported;
  return total === 0 && rows > 0 ? 0 : 1;
}

/**
 * A Node stream as a fetch body (fetch takes web streams), read only when the request pulls
 * (highWaterMark 0): a slow server slows the file reads instead of queueing the file in memory.
 */
export function fetchBody(stream: Readable): ReadableStream<Uint8Array> {
  const chunks = stream[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value as Uint8Array);
      },
      async cancel() {
        await chunks.return?.();
        stream.destroy();
      },
    },
    { highWaterMark: 0 },
  );
}
