/** Admin operations: feeds (md_feeds) and history imports into md_candles. */
import { Ajv, type ErrorObject } from 'ajv';
import { upsertBars } from './candles/store.ts';
import type { MarketDataContext } from './context.ts';
import { DEFAULT_EXCHANGE_FEED } from './feeds/manager.ts';
import { deleteFeed, insertFeed, listFeeds, updateFeed } from './feeds/store.ts';
import { HeaderRequirementError, type HistoryRow, parseHistory } from './import/index.ts';
import { type StreamSummary, streamHistory } from './import/stream.ts';
import {
  type Bar,
  type FeedDefinition,
  type FeedKind,
  type FeedView,
  TIMEFRAME_MS,
  type Timeframe,
} from './model.ts';
import { fieldError, invalidField, notFound, problem } from './problems.ts';

export const SYMBOL_PATTERN = '^[A-Z][A-Z0-9_-]{0,15}$';

const CONFIG_SCHEMAS: Record<FeedKind, object> = {
  exchange: { type: 'object', additionalProperties: false, properties: {} },
  simulated: {
    type: 'object',
    additionalProperties: false,
    required: ['symbols', 'ratePerSec', 'seed'],
    properties: {
      symbols: {
        type: 'array',
        minItems: 1,
        maxItems: 500,
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['symbol', 'price'],
          properties: {
            symbol: { type: 'string', pattern: SYMBOL_PATTERN },
            price: { type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 },
          },
        },
      },
      ratePerSec: { type: 'number', exclusiveMinimum: 0, maximum: 100_000 },
      seed: { type: 'integer', minimum: 0, maximum: 4_294_967_295 },
      spreadBps: { type: 'number', exclusiveMinimum: 0, maximum: 1000 },
      volatilityBps: { type: 'number', minimum: 0, maximum: 1000 },
    },
  },
  news: {
    type: 'object',
    additionalProperties: false,
    required: ['url'],
    properties: {
      url: { type: 'string', pattern: '^https?://', maxLength: 2000 },
      intervalMs: { type: 'integer', minimum: 1000, maximum: 86_400_000 },
    },
  },
};

const ajv = new Ajv({ strict: true, allErrors: false });
const configValidators = Object.fromEntries(
  Object.entries(CONFIG_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]),
) as Record<FeedKind, ReturnType<typeof ajv.compile>>;

function configError(e: ErrorObject): { field: string; message: string } {
  const path = e.instancePath.split('/').slice(1);
  if (e.keyword === 'required') path.push(String(e.params.missingProperty));
  if (e.keyword === 'additionalProperties') path.push(String(e.params.additionalProperty));
  const message =
    e.keyword === 'required'
      ? 'is required'
      : e.keyword === 'additionalProperties'
        ? 'is not an allowed property'
        : (e.message ?? 'is invalid');
  return { field: ['config', ...path].join('.'), message };
}

function checkConfig(kind: FeedKind, config: unknown): void {
  const validate = configValidators[kind];
  if (!validate(config)) {
    const { field, message } = configError(validate.errors![0]!);
    throw invalidField('body', field, message);
  }
  if (kind === 'simulated') {
    const symbols = (config as { symbols: { symbol: string }[] }).symbols.map((s) => s.symbol);
    const dup = symbols.find((s, i) => symbols.indexOf(s) !== i);
    if (dup) throw invalidField('body', 'config.symbols', `lists ${dup} twice`);
  }
}

export interface NewFeedBody {
  id: string;
  kind: FeedKind;
  priority?: number;
  staleAfterMs?: number;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export interface FeedPatchBody {
  priority?: number;
  staleAfterMs?: number;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

async function viewOf(ctx: MarketDataContext, id: string): Promise<FeedView> {
  const v = (await ctx.feeds.views()).find((f) => f.id === id);
  if (!v) throw notFound(`no feed ${id}`);
  return v;
}

export async function addFeed(ctx: MarketDataContext, body: NewFeedBody): Promise<FeedView> {
  const config = body.config ?? {};
  checkConfig(body.kind, config);
  const def = {
    id: body.id,
    kind: body.kind,
    priority: body.priority ?? 10,
    staleAfterMs: body.staleAfterMs ?? (body.kind === 'news' ? 3_600_000 : 30_000),
    enabled: body.enabled ?? true,
    config,
  } as FeedDefinition;
  if (!(await insertFeed(ctx.db, def, ctx.clock.now()))) {
    throw problem(409, 'feed-exists', 'Conflict', `a feed ${body.id} exists`, {
      errors: [fieldError('body', 'id', 'is already taken')],
    });
  }
  await ctx.feedsChanged();
  return viewOf(ctx, body.id);
}

export async function changeFeed(
  ctx: MarketDataContext,
  id: string,
  patch: FeedPatchBody,
): Promise<FeedView> {
  const current = (await listFeeds(ctx.db)).find((f) => f.id === id);
  if (!current) throw notFound(`no feed ${id}`);
  if (patch.config !== undefined) checkConfig(current.kind, patch.config);
  const def = {
    ...current,
    ...(patch.priority !== undefined && { priority: patch.priority }),
    ...(patch.staleAfterMs !== undefined && { staleAfterMs: patch.staleAfterMs }),
    ...(patch.enabled !== undefined && { enabled: patch.enabled }),
    ...(patch.config !== undefined && { config: patch.config }),
  } as FeedDefinition;
  if (!(await updateFeed(ctx.db, def, ctx.clock.now()))) throw notFound(`no feed ${id}`);
  await ctx.feedsChanged();
  return viewOf(ctx, id);
}

export async function removeFeed(ctx: MarketDataContext, id: string): Promise<void> {
  // our own exchange's trades and quotes: removing it would leave the market without its primary
  // source until someone noticed (and the next start would write it again anyway)
  if (id === DEFAULT_EXCHANGE_FEED.id) {
    throw problem(
      409,
      'feed-built-in',
      'Conflict',
      `the ${id} feed is built in and cannot be deleted; pause it with PATCH {"enabled": false}`,
    );
  }
  if (!(await deleteFeed(ctx.db, id))) throw notFound(`no feed ${id}`);
  await ctx.feedsChanged();
}

export interface ImportQuery {
  /** the instrument of a one-series file; for a file that names its symbols, only this one is imported */
  symbol?: string;
  timeframe: Timeframe;
  /** how 01/02/2000 is read: auto (from the file, else month first), mdy or dmy */
  date_format?: 'auto' | 'mdy' | 'dmy';
  /** parse and report, write nothing */
  dry_run?: boolean;
}

export interface ImportResult {
  /** the symbol asked for, or the file's only symbol; null for a file of several */
  symbol: string | null;
  timeframe: Timeframe;
  /** what the file was recognised as (csv-ohlcv, csv-long-price, csv-wide, stooq, json-bars, …) */
  layout: string;
  /** how numeric dates such as 01/02/2000 were read; null when the file had none */
  date_format: 'mdy' | 'dmy' | null;
  date_format_from: 'given' | 'detected' | 'default' | null;
  dry_run: boolean;
  /** good rows read */
  rows: number;
  /** rows written (0 in a dry run) */
  imported: number;
  /** rows of other symbols, left out because `symbol` was given */
  skipped: number;
  symbols: { symbol: string; rows: number; first: string; last: string }[];
  /** the first MAX_REPORTED_ERRORS bad rows by line; error_count has them all */
  errors: { line: number; message: string }[];
  error_count: number;
}

export const MAX_REPORTED_ERRORS = 1000;

function toBar(symbol: string, timeframe: Timeframe, r: HistoryRow): Bar {
  const ms = TIMEFRAME_MS[timeframe];
  const t = r.date.getTime();
  return {
    symbol,
    timeframe,
    t: t - (((t % ms) + ms) % ms),
    o: r.open,
    h: r.high,
    l: r.low,
    c: r.close,
    v: Math.round(r.volume),
    vw: null,
    n: 0,
    source: 'import',
  };
}

function missingSymbol(message: string): Error {
  return invalidField('querystring', 'symbol', message);
}

async function writeBars(ctx: MarketDataContext, bars: Bar[]): Promise<number> {
  return bars.length === 0 ? 0 : ctx.db.transaction((tx) => upsertBars(tx, bars));
}

/**
 * Imports a CSV file from a byte stream (the request body), in bounded memory: rows are written
 * in batches as they are read (each batch its own transaction, so a failure part-way keeps the
 * batches before it; re-running the import is safe, rows are upserted). Candles get source
 * 'import', each at the start of its bucket.
 */
export async function importHistoryStream(
  ctx: MarketDataContext,
  q: ImportQuery,
  body: AsyncIterable<Uint8Array | string>,
): Promise<ImportResult> {
  let imported = 0;
  const dryRun = q.dry_run === true;
  let summary: StreamSummary;
  try {
    summary = await streamHistory(
      body,
      {
        ...(q.date_format !== undefined && { dateOrder: q.date_format }),
        ...(q.symbol !== undefined && { only: q.symbol }),
        timeframe: q.timeframe,
        maxErrors: MAX_REPORTED_ERRORS,
        onHeader: (layout) => {
          if (!layout.rowSymbols && layout.symbols === null && q.symbol === undefined) {
            throw missingSymbol(
              'is required: the file has no symbol column, so say which instrument it holds',
            );
          }
        },
      },
      async (rows) => {
        if (dryRun) return;
        const bars = rows.map(({ row }) => toBar(row.symbol ?? q.symbol!, q.timeframe, row));
        imported += await writeBars(ctx, bars);
      },
    );
  } catch (err) {
    if (err instanceof HeaderRequirementError) throw missingSymbol(err.message);
    throw err;
  }
  const symbols = summary.symbols.map((s) => ({
    symbol: s.symbol === '' ? q.symbol! : s.symbol,
    rows: s.rows,
    first: s.first.toISOString(),
    last: s.last.toISOString(),
  }));
  return {
    symbol: q.symbol ?? (symbols.length === 1 ? symbols[0]!.symbol : null),
    timeframe: q.timeframe,
    layout: summary.layout,
    date_format: summary.dateOrder,
    date_format_from: summary.dateOrderFrom,
    dry_run: dryRun,
    rows: summary.rows,
    imported,
    skipped: summary.skipped,
    symbols,
    errors: summary.errors,
    error_count: summary.errorCount,
  };
}

/** Imports JSON bars (an array, or {bars: [...]}), read whole: the route caps the body's size. */
export async function importHistoryJson(
  ctx: MarketDataContext,
  q: ImportQuery,
  body: unknown,
): Promise<ImportResult> {
  const parsed = parseHistory(JSON.stringify(body), { format: 'json' });
  const rows = parsed.rows.filter(
    (r) => q.symbol === undefined || r.symbol === undefined || r.symbol === q.symbol,
  );
  if (q.symbol === undefined && rows.some((r) => r.symbol === undefined)) {
    throw missingSymbol('is required: the bars do not name their symbol');
  }
  const bars = rows.map((r) => toBar(r.symbol ?? q.symbol!, q.timeframe, r));
  const dryRun = q.dry_run === true;
  const imported = dryRun ? 0 : await writeBars(ctx, bars);
  const bySymbol = new Map<string, { symbol: string; rows: number; first: string; last: string }>();
  for (const b of bars) {
    const at = new Date(b.t).toISOString();
    const s = bySymbol.get(b.symbol);
    if (!s) bySymbol.set(b.symbol, { symbol: b.symbol, rows: 1, first: at, last: at });
    else {
      s.rows++;
      if (at < s.first) s.first = at;
      if (at > s.last) s.last = at;
    }
  }
  const symbols = [...bySymbol.values()];
  return {
    symbol: q.symbol ?? (symbols.length === 1 ? symbols[0]!.symbol : null),
    timeframe: q.timeframe,
    layout: parsed.layout,
    date_format: null,
    date_format_from: null,
    dry_run: dryRun,
    rows: bars.length,
    imported,
    skipped: parsed.rows.length - rows.length,
    symbols,
    errors: parsed.errors.slice(0, MAX_REPORTED_ERRORS),
    error_count: parsed.errors.length,
  };
}
