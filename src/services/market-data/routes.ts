/**
 * The public HTTP API (README.md), at the paths the gateway forwards as they are. Every route
 * needs a forwarded identity (the gateway's headers with the internal token; 401 otherwise);
 * /feeds and /import need an admin (403). Every route has a schema: an unknown or wrong field is
 * a 400 problem naming it, before anything runs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { type ForwardedIdentity, readForwardedIdentity } from '../../platform/http/forwarded-identity.ts';
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
import type { AlpacaTimeframe, BarsQuery } from './client.ts';
import type { MarketDataContext } from './context.ts';
import { forbidden, installProblemHandlers, invalidField, problemSchema, unauthorized } from './problems.ts';
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

export async function marketDataRoutes(app: FastifyInstance, ctx: MarketDataContext): Promise<void> {
  app.setValidatorCompiler(strictValidatorCompiler([]));
  installProblemHandlers(app);
  // a CSV import is read as a stream, in bounded memory whatever its size (import/stream.ts)
  app.addContentTypeParser(['text/csv', 'text/plain', 'application/octet-stream'], (_r, payload, done) =>
    done(null, payload),
  );

  app.addHook('onRequest', async (req) => {
    const id = readForwardedIdentity(req.headers, ctx.internalToken);
    if (!id) throw unauthorized();
    req.mdIdentity = id;
  });
  const adminOnly = async (req: { mdIdentity?: ForwardedIdentity }) => {
    if (req.mdIdentity?.role !== 'admin') throw forbidden('Administrators only');
  };

  type R<P = unknown, Q = unknown, B = unknown> = FastifyRequest<{ Params: P; Querystring: Q; Body: B }>;
  type SymP = { symbol: string };

  app.get(
    '/v2/stocks/:symbol/bars',
    {
      schema: {
        params: symbolParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['timeframe'],
          properties: {
            timeframe: alpacaTimeframe,
            start: { type: 'string', maxLength: 40 },
            end: { type: 'string', maxLength: 40 },
            limit: { type: 'integer', minimum: 1, maximum: 10_000 },
            page_token: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,40}$' },
          },
        },
        response: errors,
      },
    },
    async (req: R<SymP, BarsQuery>) => q.getBars(ctx, req.params.symbol, req.query),
  );

  app.get(
    '/v2/stocks/:symbol/trades/latest',
    { schema: { params: symbolParams, querystring: noQuery, response: errors } },
    async (req: R<SymP>) => q.latestTrade(ctx, req.params.symbol),
  );
  app.get(
    '/v2/stocks/:symbol/quotes/latest',
    { schema: { params: symbolParams, querystring: noQuery, response: errors } },
    async (req: R<SymP>) => q.latestQuote(ctx, req.params.symbol),
  );
  app.get(
    '/v2/stocks/:symbol/trades',
    {
      schema: {
        params: symbolParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } },
        },
        response: errors,
      },
    },
    async (req: R<SymP, { limit?: number }>) => q.recentTrades(ctx, req.params.symbol, req.query),
  );
  app.get(
    '/v2/stocks/snapshots',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['symbols'],
          properties: { symbols: symbolList },
        },
        response: errors,
      },
    },
    async (req: R<unknown, { symbols: string }>) => q.snapshots(ctx, splitSymbols(req.query.symbols)!),
  );

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
