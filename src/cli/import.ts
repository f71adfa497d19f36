/**
 * `bourse import FILE --symbol X [--timeframe 1d] [--format csv|json]`: sends a price history
 * file to the market-data admin endpoint (POST /v1/market-data/import), which parses and stores
 * it, and prints what happened: how many rows went in and every row that did not, by line.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import { TIMEFRAMES, type Timeframe } from '../services/market-data/model.ts';

export const IMPORT_USAGE = `usage: bourse import FILE --symbol SYMBOL [--timeframe ${TIMEFRAMES.join('|')}] [--format csv|json]

  FILE         a CSV (Date,Open,High,Low,Close[,Adj Close],Volume or Date,Price) or JSON bars file
  --symbol     the instrument the rows belong to, e.g. ACME
  --timeframe  the bar size of the rows (default 1d)
  --format     csv or json (default: from the file name, .json is JSON, anything else CSV)`;

// the market-data API's symbol rule (SYMBOL_PATTERN in src/services/market-data/admin.ts)
const SYMBOL = /^[A-Z][A-Z0-9_-]{0,15}$/;

export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string) {
    super(`${message}\n\n${IMPORT_USAGE}`);
  }
}

export interface ImportArgs {
  file: string;
  symbol: string;
  timeframe: Timeframe;
  format?: 'csv' | 'json';
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
  if (values.symbol === undefined || values.symbol.trim() === '') throw new UsageError('missing --symbol');
  const symbol = values.symbol.trim().toUpperCase();
  if (!SYMBOL.test(symbol)) {
    throw new UsageError(
      `bad --symbol '${values.symbol}': letters, digits, '_' or '-', starting with a letter`,
    );
  }
  const timeframe = (values.timeframe ?? '1d') as Timeframe;
  if (!TIMEFRAMES.includes(timeframe)) {
    throw new UsageError(`bad --timeframe '${values.timeframe}': one of ${TIMEFRAMES.join(', ')}`);
  }
  const args: ImportArgs = { file, symbol, timeframe };
  if (values.format !== undefined) {
    if (values.format !== 'csv' && values.format !== 'json') {
      throw new UsageError(`bad --format '${values.format}': csv or json`);
    }
    args.format = values.format;
  }
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
    },
  });
}

export interface ImportResponse {
  imported: number;
  errors: { line: number; message: string }[];
}

export type PostImport = (
  symbol: string,
  timeframe: Timeframe,
  body: string,
  contentType: 'text/csv' | 'application/json',
) => Promise<ImportResponse>;

export interface ImportIo {
  readFile?: (path: string) => Promise<string>;
  /** one line of the summary (default: console.log) */
  print?: (line: string) => void;
}

/**
 * Reads the file, posts it and prints the summary. Resolves to the result; the caller turns it
 * into an exit code (importExitCode). A failed read or post rejects, with nothing printed.
 */
export async function importFile(
  args: ImportArgs,
  post: PostImport,
  io: ImportIo = {},
): Promise<ImportResponse> {
  const read = io.readFile ?? ((path: string) => readFile(path, 'utf8'));
  const print = io.print ?? ((line: string) => console.log(line));
  const body = await read(args.file);
  const format = args.format ?? (extname(args.file).toLowerCase() === '.json' ? 'json' : 'csv');
  const result = await post(
    args.symbol,
    args.timeframe,
    body,
    format === 'json' ? 'application/json' : 'text/csv',
  );
  for (const line of formatSummary(args, result)) print(line);
  return result;
}

/** "imported 250 rows of ACME (1d) from prices.csv", then "line L: message" for each bad row. */
export function formatSummary(args: ImportArgs, result: ImportResponse): string[] {
  const rows = (n: number) => `${n.toLocaleString('en-US')} ${n === 1 ? 'row' : 'rows'}`;
  const lines = [`imported ${rows(result.imported)} of ${args.symbol} (${args.timeframe}) from ${args.file}`];
  if (result.errors.length > 0) {
    const n = result.errors.length;
    lines.push(`${n.toLocaleString('en-US')} ${n === 1 ? 'problem' : 'problems'}:`);
    for (const e of result.errors) lines.push(`line ${e.line}: ${e.message}`);
  }
  return lines;
}

/** 0 when every row went in; 1 when some rows were rejected or nothing was imported. */
export function importExitCode(result: ImportResponse): number {
  return result.errors.length === 0 && result.imported > 0 ? 0 : 1;
}
