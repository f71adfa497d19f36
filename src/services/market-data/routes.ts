/**
 * The public HTTP API (README.md), at the paths the gateway forwards as they are. Every route
 * needs a forwarded identity (the gateway's headers with the internal token; 401 otherwise);
 * /feeds and /import need an admin (403). Every route has a schema: an unknown or wrong field is
 * a 400 problem naming it, before anything runs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { type ForwardedIdentity, readForwardedIdentity } from '../../platform/http/forwarded-identity.ts';
import { ignoreUnknownFields } from '../../platform/http/ignored-fields.ts';
import { strictValidatorCompiler } from '../../platform/http/validator.ts';
import {
  addFeed,
  changeFeed,
  type FeedPatchBody,
  type ImportQuery,
  importHistoryJson,
  importHistoryStream,
  type NewFeedBody,
  removeFeed,
  SYMBOL_PATTERN,
} from './admin.ts';
import * as a from './alpaca-queries.ts';
import { ALPACA_NEWS_STREAM_PATH, type AlpacaTimeframe, type BarsQuery } from './client.ts';
import type { MarketDataContext } from './context.ts';
import {
  forbidden,
  installProblemHandlers,
  invalidField,
  notFound,
  problemSchema,
  unauthorized,
} from './problems.ts';
import * as q from './queries.ts';

declare module 'fastify' {
  interface FastifyRequest {
    mdIdentity?: ForwardedIdentity;
  }
}

const symbol = { type: 'string', pattern: SYMBOL_PATTERN } as const;
const symbolList = {
  type: 'string',
  pattern: '^[A-Z][A-Z0-9_-]{0,15}(,[A-Z][A-Z0-9_-]{0,15}){0,99}$',
} as const;
const symbolParams = {
  type: 'object',
  additionalProperties: false,
  required: ['symbol'],
  properties: { symbol },
} as const;
const alpacaTimeframe = { type: 'string', enum: ['1Min', '5Min', '15Min', '1Hour', '1Day'] } as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const errors = { '4xx': problemSchema, '5xx': problemSchema };
const feedId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' } as const;
const feedFields = {
  priority: { type: 'integer', minimum: 1, maximum: 1000 },
  staleAfterMs: { type: 'integer', minimum: 100, maximum: 86_400_000 },
  enabled: { type: 'boolean' },
  config: { type: 'object' },
} as const;

const IMPORT_LIMIT = 20 * 1024 * 1024;

function splitSymbols(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : [...new Set(text.split(','))];
}

export async function marketDataRoutes(
  app: FastifyInstance,
  ctx: MarketDataContext,
  /** Alpaca's news stream, served on GET /v1beta1/news's upgrade (alpaca-stream.ts) */
  newsStream?: (socket: WebSocket, req: FastifyRequest) => void,
): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler([]));
  // Alpaca's routes ignore (and name) fields they do not use, as Alpaca does; Bourse's own stay strict
  ignoreUnknownFields(app, (req) => req.url.startsWith('/v2/') || req.url.startsWith('/v1beta1/'));
  installProblemHandlers(app);
  // a CSV import is read as a stream, in bounded memory whatever its size (import/stream.ts)
  app.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], (_r, payload, done) =>
    done(null, payload),
  );

  app.addHook('onRequest', async (req) => {
    // the news stream's client authenticates in the stream, with an API key (as on Alpaca)
    if (req.ws && newsStream && req.routeOptions.url === ALPACA_NEWS_STREAM_PATH) return;
    const id = readForwardedIdentity(req.headers, ctx.internalToken);
    if (!id) throw unauthorized();
    req.mdIdentity = id;
  });
  const adminOnly = async (req: { mdIdentity?: ForwardedIdentity }) => {
    if (req.mdIdentity?.role !== 'admin') throw forbidden('Administrators only');
  };

  type R<P = unknown, Q = unknown, B = unknown> = FastifyRequest<{ Params: P; Querystring: Q; Body: B }>;
  type SymP = { symbol: string };

  // Alpaca's parameters that Bourse has one answer for (one feed, no splits, USD) are accepted
  const alpacaExtras = {
    feed: { type: 'string', enum: ['iex', 'sip', 'otc', 'boats', 'overnight', 'delayed_sip'] },
    adjustment: { type: 'string', enum: ['raw', 'split', 'dividend', 'spin-off', 'all'] },
    asof: { type: 'string', maxLength: 10 },
    currency: { type: 'string', enum: ['USD'] },
  } as const;
  const range = {
    start: { type: 'string', maxLength: 40 },
    end: { type: 'string', maxLength: 40 },
    limit: { type: 'integer', minimum: 1, maximum: 10_000 },
    page_token: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' },
    sort: { type: 'string', enum: ['asc', 'desc'] },
  } as const;
  const querySchema = (properties: Record<string, unknown>, required: string[] = []) => ({
    type: 'object',
    additionalProperties: false,
    required,
    properties: { ...alpacaExtras, ...properties },
  });
  const get = (
    url: string,
    params: unknown,
    querystring: unknown,
    handler: (req: R<never, never>) => unknown,
  ) =>
    app.get(url, { schema: { ...(params ? { params } : {}), querystring, response: errors } }, async (req) =>
      handler(req as R<never, never>),
    );
  type Sym = R<SymP, a.RangeQuery & BarsQuery>;
  type Multi = R<unknown, a.RangeQuery & BarsQuery & { symbols: string }>;
  const symbolsOf = (req: Multi) => splitSymbols(req.query.symbols)!;

  get(
    '/v2/stocks/:symbol/bars',
    symbolParams,
    querySchema({ timeframe: alpacaTimeframe, ...range }, ['timeframe']),
    (r) => {
      const req = r as unknown as Sym;
      return a.barsOf(ctx, req.params.symbol, req.query).then((b) => ({ symbol: req.params.symbol, ...b }));
    },
  );
  get(
    '/v2/stocks/bars',
    undefined,
    querySchema({ symbols: symbolList, timeframe: alpacaTimeframe, ...range }, ['symbols', 'timeframe']),
    async (r) => {
      const req = r as unknown as Multi;
      let next: string | null = null;
      const bars = await a.bySymbol(symbolsOf(req), async (sym) => {
        const b = await a.barsOf(ctx, sym, req.query);
        next ??= b.next_page_token;
        return b.bars;
      });
      return { bars, next_page_token: next };
    },
  );
  get('/v2/stocks/:symbol/bars/latest', symbolParams, querySchema({}), async (r) => {
    const req = r as unknown as Sym;
    const bar = await a.latestBar(ctx, req.params.symbol);
    if (!bar) throw notFound(`no bar for ${req.params.symbol}`);
    return { symbol: req.params.symbol, bar };
  });
  get('/v2/stocks/bars/latest', undefined, querySchema({ symbols: symbolList }, ['symbols']), async (r) => ({
    bars: await a.bySymbol(symbolsOf(r as unknown as Multi), (sym) => a.latestBar(ctx, sym)),
  }));
  get('/v2/stocks/:symbol/trades/latest', symbolParams, querySchema({}), (r) =>
    q.latestTrade(ctx, (r as unknown as Sym).params.symbol),
  );
  get(
    '/v2/stocks/trades/latest',
    undefined,
    querySchema({ symbols: symbolList }, ['symbols']),
    async (r) => ({
      trades: await a.bySymbol(
        symbolsOf(r as unknown as Multi),
        async (sym) => (await q.latestTrade(ctx, sym)).trade,
      ),
    }),
  );
  get('/v2/stocks/:symbol/quotes/latest', symbolParams, querySchema({}), (r) =>
    q.latestQuote(ctx, (r as unknown as Sym).params.symbol),
  );
  get(
    '/v2/stocks/quotes/latest',
    undefined,
    querySchema({ symbols: symbolList }, ['symbols']),
    async (r) => ({
      quotes: await a.bySymbol(
        symbolsOf(r as unknown as Multi),
        async (sym) => (await q.latestQuote(ctx, sym)).quote,
      ),
    }),
  );
  get('/v2/stocks/:symbol/trades', symbolParams, querySchema(range), async (r) => {
    const req = r as unknown as Sym;
    return { symbol: req.params.symbol, ...(await a.tradesOf(ctx, req.params.symbol, req.query)) };
  });
  get('/v2/stocks/trades', undefined, querySchema({ symbols: symbolList, ...range }, ['symbols']), (r) => {
    const req = r as unknown as Multi;
    return a.tradesBySymbol(ctx, symbolsOf(req), req.query);
  });
  get('/v2/stocks/:symbol/quotes', symbolParams, querySchema(range), async (r) => {
    const req = r as unknown as Sym;
    return { symbol: req.params.symbol, ...(await a.quotesOf(ctx, req.params.symbol, req.query)) };
  });
  get('/v2/stocks/quotes', undefined, querySchema({ symbols: symbolList, ...range }, ['symbols']), (r) => {
    const req = r as unknown as Multi;
    return a.quotesBySymbol(ctx, symbolsOf(req), req.query);
  });
  get('/v2/stocks/:symbol/snapshot', symbolParams, querySchema({}), async (r) => {
    const req = r as unknown as Sym;
    return { symbol: req.params.symbol, ...(await q.snapshots(ctx, [req.params.symbol]))[req.params.symbol] };
  });
  get('/v2/stocks/snapshots', undefined, querySchema({ symbols: symbolList }, ['symbols']), (r) =>
    q.snapshots(ctx, symbolsOf(r as unknown as Multi)),
  );
  app.route({
    method: 'GET',
    url: ALPACA_NEWS_STREAM_PATH,
    schema: {
      querystring: {
        type: 'object',
        additionalProperties: false,
        properties: {
          symbols: symbolList,
          limit: { type: 'integer', minimum: 1, maximum: 50 },
          start: range.start,
          end: range.end,
          sort: range.sort,
          page_token: range.page_token,
          include_content: { type: 'boolean' },
          exclude_contentless: { type: 'boolean' },
        },
      },
      response: errors,
    },
    handler: async (req: R<unknown, a.NewsQuery>) => a.newsPage(ctx, req.query),
    ...(newsStream && { wsHandler: newsStream }),
  });

  app.get('/v1/market-data/instruments', { schema: { querystring: noQuery, response: errors } }, async () =>
    q.instruments(ctx),
  );
  app.get(
    '/v1/market-data/:symbol/depth',
    {
      schema: {
        params: symbolParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { levels: { type: 'integer', minimum: 1, maximum: 100 } },
        },
        response: errors,
      },
    },
    async (req: R<SymP, { levels?: number }>) => q.depth(ctx, req.params.symbol, req.query.levels ?? 10),
  );
  app.get(
    '/v1/market-data/news',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { symbols: symbolList, limit: { type: 'integer', minimum: 1, maximum: 500 } },
        },
        response: errors,
      },
    },
    async (req: R<unknown, { symbols?: string; limit?: number }>) =>
      q.news(ctx, { symbols: splitSymbols(req.query.symbols), limit: req.query.limit }),
  );
  app.get(
    '/v1/market-data/:symbol/indicators',
    {
      schema: {
        params: symbolParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['indicators'],
          properties: {
            timeframe: { ...alpacaTimeframe, default: '1Min' },
            indicators: { type: 'string', minLength: 1, maxLength: 500 },
            limit: { type: 'integer', minimum: 1, maximum: 5000 },
          },
        },
        response: errors,
      },
    },
    async (req: R<SymP, { timeframe: AlpacaTimeframe; indicators: string; limit?: number }>) =>
      q.indicators(ctx, req.params.symbol, req.query),
  );
  app.get(
    '/v1/market-data/movers',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { top: { type: 'integer', minimum: 1, maximum: 100 } },
        },
        response: errors,
      },
    },
    async (req: R<unknown, { top?: number }>) => q.getMovers(ctx, req.query),
  );
  app.get(
    '/v1/market-data/alerts',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ratio: { type: 'number', minimum: 1, maximum: 1000 } },
        },
        response: errors,
      },
    },
    async (req: R<unknown, { ratio?: number }>) => q.getAlerts(ctx, req.query),
  );

  // --- admin ---------------------------------------------------------------------------------
  const admin = { onRequest: adminOnly };
  const feedParams = {
    type: 'object',
    additionalProperties: false,
    required: ['id'],
    properties: { id: feedId },
  } as const;

  app.get(
    '/v1/market-data/feeds',
    { ...admin, schema: { querystring: noQuery, response: errors } },
    async () => ({ feeds: await ctx.feeds.views() }),
  );
  app.get(
    '/v1/market-data/feeds/status',
    { ...admin, schema: { querystring: noQuery, response: errors } },
    async () => ({
      feeds: (await ctx.feeds.views()).map((f) => ({
        id: f.id,
        kind: f.kind,
        priority: f.priority,
        enabled: f.enabled,
        ...f.health,
        lastMessageAt:
          f.health.lastMessageAt === null ? null : new Date(f.health.lastMessageAt).toISOString(),
      })),
    }),
  );
  app.post(
    '/v1/market-data/feeds',
    {
      ...admin,
      bodyLimit: 256 * 1024,
      schema: {
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'kind'],
          properties: {
            id: feedId,
            kind: { type: 'string', enum: ['exchange', 'simulated', 'news'] },
            ...feedFields,
          },
        },
        response: errors,
      },
    },
    async (req: R<unknown, unknown, NewFeedBody>, reply) =>
      reply.code(201).send(await addFeed(ctx, req.body)),
  );
  app.patch(
    '/v1/market-data/feeds/:id',
    {
      ...admin,
      bodyLimit: 256 * 1024,
      schema: {
        params: feedParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: feedFields },
        response: errors,
      },
    },
    async (req: R<{ id: string }, unknown, FeedPatchBody>) => changeFeed(ctx, req.params.id, req.body),
  );
  app.delete(
    '/v1/market-data/feeds/:id',
    { ...admin, schema: { params: feedParams, querystring: noQuery, response: errors } },
    async (req: R<{ id: string }>, reply) => {
      await removeFeed(ctx, req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    '/v1/market-data/import',
    {
      ...admin,
      // JSON bodies are parsed whole (and so capped); CSV bodies are streamed, without a cap
      bodyLimit: IMPORT_LIMIT,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            symbol,
            timeframe: { type: 'string', enum: ['1m', '5m', '15m', '1h', '1d'], default: '1d' },
            date_format: { type: 'string', enum: ['auto', 'mdy', 'dmy'], default: 'auto' },
            dry_run: { type: 'boolean', default: false },
          },
        },
        response: errors,
      },
    },
    async (req: R<unknown, ImportQuery, unknown>) => {
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      const body = req.body;
      if (type === 'application/json') return importHistoryJson(ctx, req.query, body);
      if (body === undefined || body === null || typeof body !== 'object' || !(Symbol.asyncIterator in body))
        throw invalidField('body', 'body', 'must be a CSV file (content-type text/csv)');
      return importHistoryStream(ctx, req.query, body as AsyncIterable<Uint8Array>);
    },
  );
}
