/**
 * The design's market-data door: GET /market-data?symbols= (latest trade, top of book and depth
 * per symbol, from the cache: quotes.ts) and POST /market-data (a trading request: exactly
 * POST /v2/orders). GET answers carry an ETag; a browser revalidating gets 304.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as s from '../alpaca/schemas.ts';
import type { GatewayContext } from '../context.ts';
import { invalidField } from '../problems.ts';
import type { Snapshot } from '../quotes.ts';
import { route } from './common.ts';
import { type NewOrderBody, submitOrder } from './orders.ts';

const MAX_SYMBOLS = 50;
const SYMBOL = new RegExp(s.SYMBOL_PATTERN);

function symbolsOf(raw: string): string[] {
  // strict, like every input: 'AAPL, MSFT' or 'AAPL,' name no symbol, they are refused
  const list = [...new Set(raw.split(','))];
  if (list.length > MAX_SYMBOLS)
    throw invalidField('querystring', 'symbols', `at most ${MAX_SYMBOLS} symbols`);
  const bad = list.find((x) => !SYMBOL.test(x));
  if (bad !== undefined)
    throw invalidField('querystring', 'symbols', `${JSON.stringify(bad.slice(0, 20))} is not a symbol`);
  return list;
}

/**
 * The answer for one symbol at one depth, encoded once per snapshot object: quotes.ts hands out
 * the same object until the symbol changes, so a hot symbol's body and ETag are built once, not
 * at every read.
 */
const encoded = new WeakMap<Snapshot, Map<number, { body: string; etag: string }>>();

function encode(snapshots: Record<string, Snapshot>): { body: string; etag: string } {
  const body = JSON.stringify({ snapshots });
  return { body, etag: `W/"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"` };
}

function answerFor(snaps: (Snapshot | null)[], depth: number): { body: string; etag: string } {
  const only = snaps.length === 1 ? snaps[0] : undefined;
  if (only) {
    let byDepth = encoded.get(only);
    if (!byDepth) encoded.set(only, (byDepth = new Map()));
    let answer = byDepth.get(depth);
    if (!answer) byDepth.set(depth, (answer = encode({ [only.symbol]: trim(only, depth) })));
    return answer;
  }
  const snapshots: Record<string, Snapshot> = {};
  for (const snap of snaps) if (snap) snapshots[snap.symbol] = trim(snap, depth);
  return encode(snapshots);
}

const trim = (snap: Snapshot, depth: number): Snapshot =>
  snap.book.bids.length <= depth && snap.book.asks.length <= depth
    ? snap
    : { ...snap, book: { bids: snap.book.bids.slice(0, depth), asks: snap.book.asks.slice(0, depth) } };

export async function marketDataRoutes(app: FastifyInstance, ctx: GatewayContext): Promise<void> {
  const tags = ['market data'];

  app.get<{ Querystring: { symbols: string; depth: number } }>(
    '/market-data',
    route({
      tags,
      summary: 'Real-time data for symbols',
      description:
        'Latest trade, best bid/ask and book depth per symbol (unknown symbols are left out). Served from a ' +
        'short-lived cache that trades and book changes invalidate; send If-None-Match to get 304.',
      querystring: s.marketDataQuery,
      response: { 200: s.marketDataResponse, 304: { type: 'null', description: 'Not modified' } },
    }),
    async (req, reply) => {
      const symbols = symbolsOf(req.query.symbols);
      const snaps = await Promise.all(symbols.map((sym) => ctx.quotes.snapshot(sym, req.id)));
      const { body, etag } = answerFor(snaps, req.query.depth);
      reply.header('etag', etag).header('cache-control', 'private, no-cache');
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply
        .type('application/json; charset=utf-8')
        .serializer((x) => x as string)
        .send(body);
    },
  );

  app.post<{ Body: NewOrderBody }>(
    '/market-data',
    route({
      tags,
      summary: 'Submit a trading request',
      description: 'The same request and answer as POST /v2/orders.',
      body: s.newOrderBody,
      querystring: s.actingQuery,
      response: { 200: s.order },
      rateClass: 'orders',
    }),
    (req) => submitOrder(ctx, req),
  );
}
