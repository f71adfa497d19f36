/** Admin operations: feeds (md_feeds) and history imports into md_candles. */
import { Ajv, type ErrorObject } from 'ajv';
import { upsertBars } from './candles/store.ts';
import type { MarketDataContext } from './context.ts';
import { deleteFeed, insertFeed, listFeeds, updateFeed } from './feeds/store.ts';
import {
  type Bar,
  type FeedDefinition,
  type FeedKind,
  type FeedView,
  TIMEFRAME_MS,
  type Timeframe,
} from './model.ts';
import { invalidField, notFound, problem } from './problems.ts';

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
      errors: [{ in: 'body', field: 'id', message: 'is already taken' }],
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
  if (!(await deleteFeed(ctx.db, id))) throw notFound(`no feed ${id}`);
  await ctx.feedsChanged();
}

export interface ImportResult {
  symbol: string;
  timeframe: Timeframe;
  imported: number;
  errors: { line: number; message: string }[];
}

/** Stores parsed history rows as candles (source 'import'), each at the start of its bucket. */
export async function importHistory(
  ctx: MarketDataContext,
  q: { symbol: string; timeframe: Timeframe },
  text: string,
  format: 'csv' | 'json',
): Promise<ImportResult> {
  const parsed = ctx.parseHistory(text, { format });
  const ms = TIMEFRAME_MS[q.timeframe];
  const bars: Bar[] = parsed.rows.map((r) => {
    const t = r.date.getTime();
    return {
      symbol: q.symbol,
      timeframe: q.timeframe,
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
  });
  const imported = await ctx.db.transaction((tx) => upsertBars(tx, bars));
  return { symbol: q.symbol, timeframe: q.timeframe, imported, errors: parsed.errors };
}
